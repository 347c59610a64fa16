"""The unembedding head (tinkerlite.local.unembed): log-probs and gradients against a float64 reference,
for logits inside and outside the no-shift range, in one chunk and in many."""

from __future__ import annotations

import numpy as np
import pytest

from tinkerlite.local import unembed
from tinkerlite.local.model import LoraSpec, TinyTransformer

from ._helpers import TINY, ce_datum, tiny_model


def _reference(model: TinyTransformer, tokens: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Target log-probs from a float64 log-softmax of the hidden states (no chunks, always shifted)."""
    hf, _ = model.hidden(tokens[None, :])
    logits = hf[0].astype(np.float64) @ model.unembed_weight().astype(np.float64).T
    logits -= logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return np.take_along_axis(logp, targets[:, None], axis=1)[:, 0]


@pytest.mark.parametrize("embed_scale", [1.0, 400.0])  # 400: row maxima far past the no-shift bound
def test_logprobs_match_a_float64_log_softmax(embed_scale: float) -> None:
    model = tiny_model(dtype="float32")
    model.base = {**model.base, "embed": model.base["embed"] * np.float32(embed_scale)}
    rng = np.random.default_rng(3)
    datum = ce_datum(rng, 10, TINY.vocab_size)
    (out,), _ = model.forward_backward([datum], "cross_entropy", forward_only=True)
    want = _reference(model, np.asarray(datum.input_tokens), np.asarray(datum.loss_fn_inputs["target_tokens"]))
    np.testing.assert_allclose(out["logprobs"], want, rtol=1e-5, atol=2e-5 * embed_scale)
    if embed_scale > 1:  # the shifted path really ran: unshifted exp would overflow to inf / nan
        hf, _ = model.hidden(np.asarray(datum.input_tokens)[None, :])
        assert float(np.max(hf[0] @ model.unembed_weight().T)) > 60


@pytest.mark.parametrize("chunk", [TINY.vocab_size, 3 * TINY.vocab_size])  # 1 and 3 rows per chunk
@pytest.mark.parametrize(
    "flags",
    [{}, {"train_attn": False, "train_mlp": False}, {"train_unembed": False}],
    ids=["all", "unembed-only", "body-only"],
)
def test_chunked_forward_backward_equals_one_chunk(
    monkeypatch: pytest.MonkeyPatch, chunk: int, flags: dict[str, bool]
) -> None:
    rng = np.random.default_rng(8)
    batch = [ce_datum(rng, 11, TINY.vocab_size), ce_datum(rng, 7, TINY.vocab_size, k=2)]

    def run() -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
        model = tiny_model(LoraSpec(rank=3, alpha=6.0, seed=5, **flags))
        outputs, _ = model.forward_backward(batch, "cross_entropy")
        return [o["logprobs"] for o in outputs], {k: v.copy() for k, v in model.grads.items()}

    lp_one, grads_one = run()
    monkeypatch.setattr(unembed, "LOGIT_CHUNK", chunk)
    lp_many, grads_many = run()
    for a, b in zip(lp_one, lp_many, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert grads_one.keys() == grads_many.keys()
    for name in grads_one:
        np.testing.assert_allclose(grads_one[name], grads_many[name], rtol=1e-10, atol=1e-12, err_msg=name)
    assert any(np.abs(g).max() > 0 for g in grads_one.values())


def test_equal_chunks() -> None:
    head = unembed.UnembedHead(tiny_model(), 1)
    head.rows_per_chunk = 110
    sizes = [s.stop - s.start for s in head.slices(128)]
    assert sizes == [64, 64]
    assert [s.stop - s.start for s in head.slices(7)] == [7]


def test_gradients_with_shifted_logits() -> None:
    from .test_local_model_grads import _check_gradients

    model = tiny_model()
    model.base = {**model.base, "embed": model.base["embed"] * 30.0}
    rng = np.random.default_rng(4)
    batch = [ce_datum(rng, 9, TINY.vocab_size)]
    hf, _ = model.hidden(np.asarray(batch[0].input_tokens)[None, :])
    assert float(np.abs(hf[0] @ model.unembed_weight().T).max()) > 60  # outside the no-shift range
    _check_gradients(model, batch, "cross_entropy")
