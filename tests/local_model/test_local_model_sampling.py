"""Sampling: determinism, greedy decoding, truncation, stops, and agreement with the training log-probs."""

from __future__ import annotations

import numpy as np
import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.local.model import DatumArrays, LoraSpec, ModelConfig, TinyTransformer
from tinkerlite.local.sampling import SamplingParams, choose_token, sample

CONFIG = ModelConfig(vocab_size=64, d_model=32, n_layers=2, n_heads=4, d_ff=64, max_seq_len=48, seed=4)
PROMPT = [5, 17, 3, 40, 22, 9]


@pytest.fixture(scope="module")
def model() -> TinyTransformer:
    """A float32 model with non-zero adapters everywhere (so the merged unembedding path is exercised)."""
    m = TinyTransformer(CONFIG, LoraSpec(rank=4, seed=1))
    rng = np.random.default_rng(0)
    for arr in m.params.values():
        arr[...] = rng.normal(0.0, 0.2, arr.shape)
    return m


def _training_logprobs(model: TinyTransformer, sequence: list[int]) -> np.ndarray:
    seq = np.asarray(sequence)
    datum = DatumArrays(seq[:-1], {"target_tokens": seq[1:], "weights": np.ones(len(seq) - 1)})
    out: np.ndarray = model.forward_backward([datum], "cross_entropy", forward_only=True)[0][0]["logprobs"]
    return out


def test_same_seed_same_tokens(model: TinyTransformer) -> None:
    params = SamplingParams(max_tokens=20, seed=123, temperature=1.0)
    a = sample(model, PROMPT, 3, params)
    b = sample(model, PROMPT, 3, params)
    assert [s.tokens for s in a.sequences] == [s.tokens for s in b.sequences]
    assert [s.logprobs for s in a.sequences] == [s.logprobs for s in b.sequences]
    c = sample(model, PROMPT, 3, SamplingParams(max_tokens=20, seed=124))
    assert [s.tokens for s in a.sequences] != [s.tokens for s in c.sequences]
    assert len({tuple(s.tokens) for s in a.sequences}) == 3  # samples of one request differ


def test_greedy_is_argmax_of_the_full_forward(model: TinyTransformer) -> None:
    out = sample(model, PROMPT, 2, SamplingParams(max_tokens=15, temperature=0.0))
    seq = out.sequences[0]
    assert out.sequences[1].tokens == seq.tokens
    assert seq.stop_reason == "length" and len(seq.tokens) == 15
    _, top_ids, _ = model.prompt_logprobs(PROMPT + seq.tokens, topk=1)
    assert top_ids[len(PROMPT) - 1 :, 0].tolist() == seq.tokens
    # Greedy log-probs are the temperature-1 ones, i.e. what training computes.
    np.testing.assert_allclose(
        seq.logprobs, _training_logprobs(model, PROMPT + seq.tokens)[len(PROMPT) - 1 :], atol=1e-4
    )


def test_top_k_one_is_greedy(model: TinyTransformer) -> None:
    greedy = sample(model, PROMPT, 1, SamplingParams(max_tokens=12, temperature=0.0)).sequences[0].tokens
    for seed in (0, 1):
        topk1 = sample(model, PROMPT, 1, SamplingParams(max_tokens=12, temperature=1.3, top_k=1, seed=seed))
        assert topk1.sequences[0].tokens == greedy


def test_sampled_logprobs_at_temperature_one_match_training(model: TinyTransformer) -> None:
    out = sample(model, PROMPT, 2, SamplingParams(max_tokens=10, seed=7))
    for seq in out.sequences:
        trained = _training_logprobs(model, PROMPT + seq.tokens)[len(PROMPT) - 1 :]
        np.testing.assert_allclose(seq.logprobs, trained, atol=1e-4)


def test_sampled_logprobs_use_the_temperature(model: TinyTransformer) -> None:
    out = sample(model, PROMPT, 1, SamplingParams(max_tokens=1, seed=3, temperature=0.5))
    hidden, _ = model.hidden(np.asarray(PROMPT)[None, :])
    logits = (hidden[0, -1] @ model.unembed_weight().T).astype(np.float64) / 0.5
    expected = logits - np.log(np.sum(np.exp(logits - logits.max()))) - logits.max()
    seq = out.sequences[0]
    assert seq.logprobs[0] == pytest.approx(expected[seq.tokens[0]], abs=1e-5)


def test_stop_tokens_end_with_stop(model: TinyTransformer) -> None:
    greedy = sample(model, PROMPT, 1, SamplingParams(max_tokens=12, temperature=0.0)).sequences[0].tokens
    token = greedy[3]
    first = greedy.index(token)  # greedy decoding may repeat itself: it stops at the first occurrence
    out = sample(model, PROMPT, 1, SamplingParams(max_tokens=12, temperature=0.0, stop_token_ids=(token,)))
    seq = out.sequences[0]
    assert seq.tokens == greedy[: first + 1]  # the stop token is kept
    assert seq.stop_reason == "stop"
    assert len(seq.logprobs) == len(seq.tokens)


def test_should_stop_callback_and_ragged_samples(model: TinyTransformer) -> None:
    seen: list[int] = []

    def stop_after_three(tokens: list[int]) -> bool:
        seen.append(len(tokens))
        return len(tokens) >= 3

    out = sample(model, PROMPT, 2, SamplingParams(max_tokens=8, seed=5), should_stop=stop_after_three)
    assert [len(s.tokens) for s in out.sequences] == [3, 3]
    assert all(s.stop_reason == "stop" for s in out.sequences)
    # Ragged: a stop token ends one sample early while the other goes on decoding.
    first = sample(model, PROMPT, 2, SamplingParams(max_tokens=8, seed=5))
    s0, s1 = first.sequences[0].tokens, first.sequences[1].tokens
    i, token = next((i, t) for i, t in enumerate(s0) if t not in s0[:i] and t not in s1[: i + 1])
    ragged = sample(model, PROMPT, 2, SamplingParams(max_tokens=8, seed=5, stop_token_ids=(token,)))
    r0, r1 = ragged.sequences
    assert r0.tokens == s0[: i + 1] and r0.stop_reason == "stop"
    assert r1.tokens[: i + 1] == s1[: i + 1]  # identical draws until sample 0 stopped
    if token in r1.tokens:
        assert r1.tokens[-1] == token and r1.stop_reason == "stop"
    else:
        assert len(r1.tokens) == 8 and r1.stop_reason == "length"


def test_max_tokens_and_max_seq_len_give_length(model: TinyTransformer) -> None:
    out = sample(model, PROMPT, 1, SamplingParams(max_tokens=4, seed=1))
    assert len(out.sequences[0].tokens) == 4 and out.sequences[0].stop_reason == "length"
    assert sample(model, PROMPT, 1, SamplingParams(max_tokens=0)).sequences[0].tokens == []
    long_prompt = list(range(CONFIG.max_seq_len - 2))
    capped = sample(model, long_prompt, 1, SamplingParams(max_tokens=10, seed=1)).sequences[0]
    assert len(capped.tokens) == 3 and capped.stop_reason == "length"
    with pytest.raises(ValidationError, match="max_seq_len"):
        sample(model, list(range(CONFIG.max_seq_len + 1)), 1, SamplingParams(max_tokens=1))


def test_prompt_logprobs_equal_forward_logprobs(model: TinyTransformer) -> None:
    seq = [*PROMPT, 1, 2, 60, 33]
    out = sample(model, seq, 1, SamplingParams(max_tokens=1), prompt_logprobs=True, topk_prompt_logprobs=5)
    assert out.prompt_logprobs is not None and out.topk_prompt_logprobs is not None
    assert out.prompt_logprobs[0] is None and out.topk_prompt_logprobs[0] is None
    trained = _training_logprobs(model, seq)
    np.testing.assert_allclose(np.array(out.prompt_logprobs[1:], dtype=float), trained, rtol=0, atol=1e-6)
    for i, row in enumerate(out.topk_prompt_logprobs[1:], start=1):
        assert row is not None and len(row) == 5
        values = [lp for _, lp in row]
        assert values == sorted(values, reverse=True)
        if seq[i] in dict(row):
            assert dict(row)[seq[i]] == pytest.approx(out.prompt_logprobs[i], abs=1e-5)
        scored = out.prompt_logprobs[i]
        assert scored is not None and scored <= values[0] + 1e-6
    # The top-1 entry is the argmax of the full distribution.
    _, top_ids, _ = model.prompt_logprobs(seq, topk=CONFIG.vocab_size)
    assert [row[0][0] for row in out.topk_prompt_logprobs[1:] if row] == top_ids[:, 0].tolist()


def test_choose_token_draws_from_the_softmax() -> None:
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    rng = np.random.Generator(np.random.PCG64(0))
    draws = [choose_token(logits, SamplingParams(), rng)[0] for _ in range(20000)]
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, [0.5, 0.3, 0.15, 0.05], atol=0.015)
    top_p = [choose_token(logits, SamplingParams(top_p=0.7), rng)[0] for _ in range(2000)]
    assert set(top_p) == {0, 1}
    top_k = [choose_token(logits, SamplingParams(top_k=3, top_p=0.9), rng)[0] for _ in range(2000)]
    assert set(top_k) == {0, 1, 2}
    token, logprob = choose_token(logits, SamplingParams(top_k=2), rng)
    assert logprob == pytest.approx(np.log([0.5, 0.3, 0.15, 0.05])[token])  # untruncated log-prob


def test_bad_sampling_params() -> None:
    for kwargs in ({"temperature": -1.0}, {"top_p": 0.0}, {"top_k": -2}, {"max_tokens": -1}):
        with pytest.raises(ValidationError):
            SamplingParams(**kwargs)


def test_kv_cache_decoding_matches_the_full_forward(model: TinyTransformer) -> None:
    tokens = np.asarray([*PROMPT, 11, 12, 13, 14])
    full, _ = model.hidden(tokens[None, :])
    cache = model.new_cache(1, len(tokens))
    parts = [model.hidden(tokens[None, :4], cache)[0]]
    for i in range(4, len(tokens)):
        parts.append(model.hidden(tokens[None, i : i + 1], cache)[0])
    assert cache.length == len(tokens)
    np.testing.assert_allclose(np.concatenate(parts, axis=1), full, atol=1e-5)
