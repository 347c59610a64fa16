"""``gspo`` and ``stable_reinforce`` (SDK 0.38): values, gradients and bad input.

Both losses stop gradients somewhere, so their gradient is not the derivative of their value. The checks
therefore go through a surrogate with the stopped factors frozen at the current point, written with the
older losses whose own tests compare them with the Tinker docs' formulas:

* ``gspo``'s gradient is ``ppo``'s with the sampler log-probs shifted by the sequence log-ratio
  (``lp_s' = lp − ℓ``, so every token's ratio is ``s``): finite differences of that ``ppo`` loss must
  match the model's ``gspo`` gradient.
* ``stable_reinforce``'s gradient is ``dro``'s with ``advantages' = sg(ρ)·A``, ``beta = kl_coeff`` and
  ``weights`` = the sampled positions.

The values are also computed independently with ``tinkerlite.backend`` (pure and numpy must agree).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest

from tinkerlite.backend import available_backends, get_backend, set_backend
from tinkerlite.errors import ValidationError
from tinkerlite.local import losses
from tinkerlite.local.model import DatumArrays, TinyTransformer

from ._helpers import TINY, tiny_model
from .test_local_model_grads import _check_gradients, _loss


@pytest.fixture(params=available_backends())
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    before = get_backend().name
    set_backend(request.param)
    yield request.param
    set_backend(before)


def _logprobs(model: TinyTransformer, tokens: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Target log-probs in the model's float64 (the wire outputs are float32)."""
    hf, _ = model.hidden(np.asarray(tokens)[None, :])
    logits = hf[0] @ model.unembed_weight().T
    logits = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(logits).sum(axis=1))
    return np.asarray(logits[np.arange(len(targets)), targets] - log_norm, dtype=np.float64)


def _batch(model: TinyTransformer, seed: int, offsets: tuple[float, ...], prompt: int = 2) -> list[DatumArrays]:
    """RL datums whose first ``prompt`` positions are prompt (advantage 0, sampler log-prob padding 0)."""
    rng = np.random.default_rng(seed)
    batch = []
    for i, mean_offset in enumerate(offsets):
        length = 7 - i
        tokens, targets = rng.integers(0, TINY.vocab_size, length), rng.integers(0, TINY.vocab_size, length)
        lp = _logprobs(model, tokens, targets)
        sampled = np.arange(length) >= prompt
        lp_s = np.where(sampled, lp - mean_offset - rng.uniform(-0.3, 0.3, length), 0.0)
        adv = np.where(sampled, rng.choice([-1.5, -0.5, 0.7, 2.0], length), 0.0)
        batch.append(DatumArrays(tokens, {"target_tokens": targets, "logprobs": lp_s, "advantages": adv}, sampled))
    return batch


# ---- GSPO -------------------------------------------------------------------------------------------------


def _gspo_as_ppo(model: TinyTransformer, batch: list[DatumArrays]) -> list[DatumArrays]:
    out = []
    for d in batch:
        lp = _logprobs(model, d.input_tokens, d.loss_fn_inputs["target_tokens"])
        mask = (
            d.sampled if "sequence_ratio_mask" not in d.loss_fn_inputs else d.loss_fn_inputs["sequence_ratio_mask"] != 0
        )
        log_ratio = float(np.mean((lp - d.loss_fn_inputs["logprobs"])[mask]))
        inputs = {k: v for k, v in d.loss_fn_inputs.items() if k != "sequence_ratio_mask"}
        out.append(DatumArrays(d.input_tokens, {**inputs, "logprobs": lp - log_ratio}))
    return out


@pytest.mark.parametrize("offsets", [(0.02, -0.03), (0.5, -0.5), (0.04, 0.3)])
def test_gspo_gradient_is_ppo_with_the_frozen_sequence_ratio(offsets: tuple[float, ...]) -> None:
    """Sequence ratios inside and outside the clip range (0.9, 1.1): kept and dropped sequences."""
    model = tiny_model()
    batch = _batch(model, seed=3, offsets=offsets)
    surrogate = _gspo_as_ppo(model, batch)
    assert _loss(model, batch, "gspo", {}) == pytest.approx(_loss(model, surrogate, "ppo", {}), rel=1e-9)
    for g in model.grads.values():
        g.fill(0)
    model.forward_backward(batch, "gspo", {})
    gspo_grads = {k: v.copy() for k, v in model.grads.items()}
    _check_gradients(model, surrogate, "ppo")  # finite differences of the frozen-ratio ppo loss
    for k, g in model.grads.items():
        np.testing.assert_allclose(gspo_grads[k], g, rtol=1e-10, atol=1e-12)


def test_gspo_mask_sources_and_equal_ratios() -> None:
    model = tiny_model()
    batch = _batch(model, seed=5, offsets=(0.03, -0.02))
    with_mask = [
        DatumArrays(d.input_tokens, {**d.loss_fn_inputs, "sequence_ratio_mask": d.sampled.astype(np.float32)})
        for d in batch
    ]
    no_provenance = [DatumArrays(d.input_tokens, d.loss_fn_inputs) for d in batch]
    value = _loss(model, batch, "gspo", {})
    assert _loss(model, with_mask, "gspo", {}) == pytest.approx(value, rel=1e-12)
    # Without a mask or provenance the ratio runs over non-zero advantages: here the same cells.
    assert _loss(model, no_provenance, "gspo", {}) == pytest.approx(value, rel=1e-12)
    # A mask over one token only changes the ratio, hence the value.
    one = [
        DatumArrays(d.input_tokens, {**d.loss_fn_inputs, "sequence_ratio_mask": np.eye(1, len(d.sampled), 3)[0]})
        for d in batch
    ]
    assert _loss(model, one, "gspo", {}) != pytest.approx(value, rel=1e-6)
    # When every sampled token has the same ratio, GSPO is PPO.
    same = []
    for d in batch:
        lp = _logprobs(model, d.input_tokens, d.loss_fn_inputs["target_tokens"])
        same.append(DatumArrays(d.input_tokens, {**d.loss_fn_inputs, "logprobs": lp - 0.07}, d.sampled))
    cfg = {"clip_low_threshold": 0.8, "clip_high_threshold": 1.3}
    assert _loss(model, same, "gspo", cfg) == pytest.approx(_loss(model, same, "ppo", cfg), rel=1e-9)


# ---- StableReinforce ------------------------------------------------------------------------------------------


def _stable_as_dro(model: TinyTransformer, batch: list[DatumArrays]) -> list[DatumArrays]:
    out = []
    for d in batch:
        lp = _logprobs(model, d.input_tokens, d.loss_fn_inputs["target_tokens"])
        rho = np.minimum(1.0, np.exp(lp - d.loss_fn_inputs["logprobs"]))
        inputs = {**d.loss_fn_inputs, "advantages": rho * d.loss_fn_inputs["advantages"]}
        out.append(DatumArrays(d.input_tokens, {**inputs, "weights": d.sampled.astype(np.float64)}))
    return out


@pytest.mark.parametrize("kl_coeff", [None, 0.4])
def test_stable_reinforce_gradient_is_dro_with_frozen_truncated_weights(kl_coeff: float | None) -> None:
    model = tiny_model()
    batch = _batch(model, seed=7, offsets=(0.3, -0.3))  # ratios on both sides of the truncation at 1
    config = {} if kl_coeff is None else {"kl_coeff": kl_coeff}
    beta = 0.01 if kl_coeff is None else kl_coeff
    for g in model.grads.values():
        g.fill(0)
    model.forward_backward(batch, "stable_reinforce", config)
    grads = {k: v.copy() for k, v in model.grads.items()}
    surrogate = _stable_as_dro(model, batch)
    _check_gradients(model, surrogate, "dro", {"beta": beta})
    for k, g in model.grads.items():
        np.testing.assert_allclose(grads[k], g, rtol=1e-10, atol=1e-12)


def test_stable_reinforce_on_policy_is_reinforce_and_ignores_prompt_padding() -> None:
    model = tiny_model()
    batch = _batch(model, seed=9, offsets=(0.0,))
    d = batch[0]
    lp = _logprobs(model, d.input_tokens, d.loss_fn_inputs["target_tokens"])
    on_policy = DatumArrays(d.input_tokens, {**d.loss_fn_inputs, "logprobs": np.where(d.sampled, lp, 0.0)}, d.sampled)
    # lp_s = lp on sampled tokens: rho = 1 and the KL term is 0, so the loss is -Σ A·lp over sampled tokens;
    # the prompt positions' padding (lp_s = 0 there) must not add a KL term.
    expected = -float(np.sum(d.loss_fn_inputs["advantages"] * lp * d.sampled))
    assert _loss(model, [on_policy], "stable_reinforce", {"kl_coeff": 5.0}) == pytest.approx(expected, rel=1e-9)
    ce = DatumArrays(
        d.input_tokens, {"target_tokens": d.loss_fn_inputs["target_tokens"], "weights": d.loss_fn_inputs["advantages"]}
    )
    assert _loss(model, [ce], "cross_entropy", {}) == pytest.approx(expected, rel=1e-9)


# ---- values against an independent backend implementation ----------------------------------------------------


def _reference(
    loss_fn: str, lp: list[float], inputs: Mapping[str, Any], sampled: list[bool], config: dict[str, float]
) -> tuple[float, list[float]]:
    """Loss and dL/dlp of one 1-D datum with the backend's vector ops (module docstring formulas)."""
    be = get_backend()
    lp_v, lp_s = be.asarray(lp), be.asarray([float(x) for x in inputs["logprobs"]])
    adv = be.asarray([float(x) for x in inputs["advantages"]])
    on = be.asarray([1.0 if s else 0.0 for s in sampled])
    diff = be.sub(lp_v, lp_s)
    if loss_fn == "stable_reinforce":
        kl = config.get("kl_coeff", 0.01)
        rho = be.clip(be.exp(diff), 0.0, 1.0)
        loss_v = be.mul(on, be.add(be.mul(be.mul(rho, adv), be.mul(lp_v, -1.0)), be.mul(be.mul(diff, diff), 0.5 * kl)))
        grad_v = be.mul(on, be.add(be.mul(be.mul(rho, adv), -1.0), be.mul(diff, kl)))
        return be.sum(loss_v), be.tolist(grad_v)
    lo, hi = config.get("clip_low_threshold", 0.9), config.get("clip_high_threshold", 1.1)
    n = be.sum(on)
    s = float(np.exp(be.dot(diff, on) / n)) if n else 1.0
    c = min(max(s, lo), hi)
    a_pos, a_neg = be.clip(adv, 0.0, float("inf")), be.clip(adv, float("-inf"), 0.0)
    loss_v = be.add(be.mul(a_pos, -min(s, c)), be.mul(a_neg, -max(s, c)))
    grad_v = be.add(be.mul(a_pos, -s if s <= c else 0.0), be.mul(a_neg, -s if s >= c else 0.0))
    return be.sum(loss_v), be.tolist(grad_v)


@pytest.mark.parametrize("loss_fn", ["gspo", "stable_reinforce"])
@pytest.mark.parametrize("config", [{}, {"custom": 1.0}])
def test_values_and_token_gradients_match_a_backend_reference(
    backend: str, loss_fn: str, config: dict[str, float]
) -> None:
    if config:
        config = (
            {"kl_coeff": 0.3}
            if loss_fn == "stable_reinforce"
            else {"clip_low_threshold": 0.7, "clip_high_threshold": 1.05}
        )
    model = tiny_model(dtype="float64")
    batch = _batch(model, seed=11, offsets=(0.4, -0.05, -0.4))
    outputs, metrics = model.forward_backward(batch, loss_fn, config, forward_only=True)
    total = 0.0
    cfg = losses.resolve_config(loss_fn, config)
    for out, d in zip(outputs, batch, strict=True):
        lp = out["logprobs"].astype(np.float64)
        value, grad = _reference(loss_fn, lp.tolist(), d.loss_fn_inputs, d.sampled.tolist(), config)
        total += value
        assert float(np.sum(out["elementwise_loss"])) == pytest.approx(value, rel=1e-5, abs=1e-6)
        inputs = losses.prepare_inputs(loss_fn, d.loss_fn_inputs, lp.shape, 0, cfg, np.float64, sampled=d.sampled)
        lp2 = lp.reshape(-1, 1)
        inputs.update(losses.sequence_terms(loss_fn, lp2, inputs))
        _, server_grad = losses.token_losses(loss_fn, lp2, inputs, cfg)
        np.testing.assert_allclose(server_grad[:, 0], grad, rtol=1e-9, atol=1e-12)
    assert metrics["loss:sum"] == pytest.approx(total, rel=1e-5, abs=1e-6)


# ---- bad input ------------------------------------------------------------------------------------------------


def _d(sampled: list[bool] | None = None, **inputs: object) -> DatumArrays:
    arrays = {k: np.asarray(v) for k, v in inputs.items()}
    return DatumArrays(np.array([1, 2, 3]), arrays, None if sampled is None else np.asarray(sampled))


_RL = {"target_tokens": [1, 2, 3], "logprobs": [0.0, -1.0, -1.0]}


@pytest.mark.parametrize(
    ("loss_fn", "config", "datum", "needle"),
    [
        ("stable_reinforce", {}, _d(None, **_RL, advantages=[0, 1, 1]), "data[0].loss_fn_input_spans"),
        ("stable_reinforce", {}, _d([False, True, True], **_RL, advantages=[1, 1, 1]), "position 0"),
        ("stable_reinforce", {}, _d([True, True], **_RL, advantages=[0, 1, 1]), "provenance covers 2 positions"),
        ("stable_reinforce", {"beta": 0.1}, _d([True] * 3, **_RL, advantages=[1, 1, 1]), "loss_fn_config.beta"),
        ("stable_reinforce", {"kl_coeff": float("inf")}, _d([True] * 3, **_RL, advantages=[1, 1, 1]), "kl_coeff"),
        ("gspo", {}, _d(None, **_RL, advantages=[1, 1, 1], sequence_ratio_mask=[1, 1]), "sequence_ratio_mask"),
        ("ppo", {}, _d(None, **_RL, advantages=[1, 1, 1], sequence_ratio_mask=[1, 1, 1]), "sequence_ratio_mask"),
        ("gspo", {"clip_low_threshold": 2.0}, _d(None, **_RL, advantages=[1, 1, 1]), "clip_low_threshold"),
    ],
)
def test_bad_requests_name_the_field(loss_fn: str, config: dict[str, float], datum: DatumArrays, needle: str) -> None:
    model = tiny_model(randomize=False)
    with pytest.raises(ValidationError) as info:
        model.forward_backward([datum], loss_fn, config)
    assert needle in str(info.value)
    assert all(not g.any() for g in model.grads.values())
