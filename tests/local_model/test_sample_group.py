"""Requests decoded together (sampling.sample_group) give the same bits as each decoded alone."""

from __future__ import annotations

import numpy as np
import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.local.model import LoraSpec, ModelConfig, TinyTransformer
from tinkerlite.local.sampling import SampleRequest, SampleResult, SamplingParams, sample, sample_group

PARAMS = [
    SamplingParams(max_tokens=12),
    SamplingParams(max_tokens=5, temperature=0.7, top_k=20),
    SamplingParams(max_tokens=9, top_p=0.9, stop_token_ids=(3, 5, 7, 11, 13)),
    SamplingParams(max_tokens=7, temperature=0.0),
]


def _model(vocab: int, d: int) -> TinyTransformer:
    cfg = ModelConfig(vocab_size=vocab, d_model=d, n_layers=2, n_heads=4, d_ff=2 * d, max_seq_len=64, seed=1)
    model = TinyTransformer(cfg, LoraSpec(rank=4))
    rng = np.random.default_rng(0)
    for arr in model.params.values():
        arr[...] = rng.normal(0.0, 0.05, arr.shape)
    return model


def _requests(vocab: int, n: int, length: int, count: int) -> list[SampleRequest]:
    rng = np.random.default_rng(1)
    out = []
    for i in range(count):
        p = PARAMS[i % len(PARAMS)]
        params = SamplingParams(p.max_tokens, p.temperature, p.top_k, p.top_p, 100 + i, p.stop_token_ids)
        out.append(SampleRequest(rng.integers(0, vocab, length).tolist(), n, params))
    return out


@pytest.mark.parametrize(
    ("vocab", "d", "n", "length", "count"),
    [(512, 128, 8, 20, 4), (512, 64, 1, 6, 5), (1000, 48, 3, 9, 6), (50257, 32, 2, 4, 3)],
)
def test_group_is_bit_identical_to_solo_runs(vocab: int, d: int, n: int, length: int, count: int) -> None:
    model = _model(vocab, d)
    reqs = _requests(vocab, n, length, count)
    solo = [sample_group(model, [r])[0] for r in reqs]
    together = sample_group(model, reqs)
    for a, b in zip(solo, together, strict=True):
        assert isinstance(a, SampleResult) and isinstance(b, SampleResult)
        assert [s.tokens for s in a.sequences] == [s.tokens for s in b.sequences]
        assert [s.logprobs for s in a.sequences] == [s.logprobs for s in b.sequences]  # exact floats
        assert [s.stop_reason for s in a.sequences] == [s.stop_reason for s in b.sequences]
    # The requests really differ (distinct seeds and params), so the comparison is not vacuous.
    assert len({tuple(r.sequences[0].tokens) for r in together if isinstance(r, SampleResult)}) > 1


def test_mixed_shapes_bad_requests_and_zero_tokens() -> None:
    model = _model(512, 32)
    good = _requests(512, 2, 5, 2)
    other_len = SampleRequest([1, 2, 3], 2, SamplingParams(max_tokens=4, seed=9))
    bad = SampleRequest([1, 2, 9999, 4, 5], 2, SamplingParams(max_tokens=4, seed=1))
    empty = SampleRequest([1, 2, 3, 4, 5], 2, SamplingParams(max_tokens=0, seed=2))
    out = sample_group(model, [good[0], bad, other_len, empty, good[1]])
    assert isinstance(out[1], ValidationError) and "prompt" in str(out[1])
    for i, req in ((0, good[0]), (2, other_len), (4, good[1])):
        want = sample(model, req.prompt, req.num_samples, req.params)
        got = out[i]
        assert isinstance(got, SampleResult)
        assert [s.logprobs for s in got.sequences] == [s.logprobs for s in want.sequences]
    assert isinstance(out[3], SampleResult) and [s.tokens for s in out[3].sequences] == [[], []]


def test_sampled_logprobs_match_training_logprobs() -> None:
    """Decoding reads merged weights; its log-probs stay within float32 rounding of the training path's."""
    model = _model(512, 64)
    prompt = list(range(10, 20))
    seq = sample(model, prompt, 1, SamplingParams(max_tokens=10, seed=3)).sequences[0]
    lp, _, _ = model.prompt_logprobs(prompt + seq.tokens)
    np.testing.assert_allclose(seq.logprobs, lp[len(prompt) - 1 :], atol=2e-5)
