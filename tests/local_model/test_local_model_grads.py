"""The hand-written backward pass against finite differences, and the losses against their definitions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.local.model import DatumArrays, LoraSpec, TinyTransformer

from ._helpers import TINY, ce_datum, tiny_model

RL_LOSSES = ("importance_sampling", "ppo", "cispo", "dro")


def _loss(model: TinyTransformer, batch: list[DatumArrays], loss_fn: str, config: dict[str, float]) -> float:
    return model.forward_backward(batch, loss_fn, config, forward_only=True)[1]["loss:sum"]


def _check_gradients(
    model: TinyTransformer, batch: list[DatumArrays], loss_fn: str, config: dict[str, float] | None = None
) -> None:
    """Central differences on a few entries of every adapter array, plus one random direction."""
    config = config or {}
    for g in model.grads.values():
        g.fill(0)
    outputs, _ = model.forward_backward(batch, loss_fn, config)
    grads = {k: v.copy() for k, v in model.grads.items()}
    if loss_fn == "cispo":
        # CISPO stops the gradient through clip(r): its gradient is that of -Σ c·lp·A with the
        # coefficient c = clip(r) frozen at this point, i.e. of cross-entropy with weights c·A.
        frozen = []
        for out, d in zip(outputs, batch, strict=True):
            ratio = np.exp(out["logprobs"].astype(np.float64) - d.loss_fn_inputs["logprobs"])
            weights = np.clip(ratio, 0.9, 1.1) * d.loss_fn_inputs["advantages"]
            frozen.append(
                DatumArrays(d.input_tokens, {"target_tokens": d.loss_fn_inputs["target_tokens"], "weights": weights})
            )
        batch, loss_fn, config = frozen, "cross_entropy", {}
    rng = np.random.default_rng(0)
    h = 1e-6
    assert any(np.abs(g).max() > 1e-6 for g in grads.values()), "gradient is identically zero"
    for name, arr in model.params.items():
        for _ in range(4):
            idx = tuple(int(rng.integers(0, n)) for n in arr.shape)
            orig = arr[idx]
            arr[idx] = orig + h
            up = _loss(model, batch, loss_fn, config)
            arr[idx] = orig - h
            down = _loss(model, batch, loss_fn, config)
            arr[idx] = orig
            numeric = (up - down) / (2 * h)
            assert numeric == pytest.approx(grads[name][idx], rel=1e-5, abs=1e-7), (name, idx)
    direction = {k: rng.standard_normal(v.shape) for k, v in model.params.items()}
    expected = sum(float(np.sum(direction[k] * grads[k])) for k in grads)
    for k in model.params:
        model.params[k] += h * direction[k]
    up = _loss(model, batch, loss_fn, config)
    for k in model.params:
        model.params[k] -= 2 * h * direction[k]
    down = _loss(model, batch, loss_fn, config)
    for k in model.params:
        model.params[k] += h * direction[k]
    assert (up - down) / (2 * h) == pytest.approx(expected, rel=1e-5, abs=1e-7)


def _rl_batch(model: TinyTransformer, seed: int, spread: float = 0.4) -> list[DatumArrays]:
    """RL datums whose sampler log-probs sit near the model's, so ratios straddle the clip range."""
    rng = np.random.default_rng(seed)
    batch = []
    for length in (7, 4):
        tokens, targets = rng.integers(0, TINY.vocab_size, length), rng.integers(0, TINY.vocab_size, length)
        probe = DatumArrays(tokens, {"target_tokens": targets, "weights": np.ones(length)})
        lp = model.forward_backward([probe], "cross_entropy", forward_only=True)[0][0]["logprobs"]
        while True:
            offset = rng.uniform(-spread, spread, length)
            ratio = np.exp(offset)
            # Keep away from the kinks of clip() so finite differences stay valid.
            if np.all(np.abs(ratio - 0.9) > 1e-3) and np.all(np.abs(ratio - 1.1) > 1e-3):
                break
        inputs = {
            "target_tokens": targets,
            "logprobs": (lp.astype(np.float64) - offset),
            "advantages": rng.choice([-1.5, -0.5, 0.7, 2.0], length),
        }
        batch.append(DatumArrays(tokens, inputs))
    return batch


def test_cross_entropy_gradients_with_negative_weights() -> None:
    model = tiny_model()
    rng = np.random.default_rng(1)
    batch = [ce_datum(rng, 7, TINY.vocab_size), ce_datum(rng, 3, TINY.vocab_size)]
    assert any(np.any(d.loss_fn_inputs["weights"] < 0) for d in batch)
    _check_gradients(model, batch, "cross_entropy")


def test_cross_entropy_gradients_with_two_dimensional_targets() -> None:
    model = tiny_model()
    rng = np.random.default_rng(2)
    datum = ce_datum(rng, 6, TINY.vocab_size, k=3)
    datum.loss_fn_inputs["target_tokens"][2] = [4, 4, 9]  # a repeated target in one row
    out, _ = model.forward_backward([datum], "cross_entropy", forward_only=True)
    assert out[0]["logprobs"].shape == (6, 3)
    assert out[0]["logprobs"][2, 0] == out[0]["logprobs"][2, 1]
    _check_gradients(model, [datum], "cross_entropy")


@pytest.mark.parametrize("loss_fn", RL_LOSSES)
def test_rl_loss_gradients(loss_fn: str) -> None:
    model = tiny_model()
    batch = _rl_batch(model, seed=4)
    config = {"beta": 0.3} if loss_fn == "dro" else {}
    _check_gradients(model, batch, loss_fn, config)


@pytest.mark.parametrize(
    ("flags", "sites"),
    [
        ({"train_attn": True, "train_mlp": False, "train_unembed": False}, {"attn.q", "attn.k", "attn.v", "attn.o"}),
        ({"train_attn": False, "train_mlp": True, "train_unembed": False}, {"mlp.fc1", "mlp.fc2"}),
        ({"train_attn": False, "train_mlp": False, "train_unembed": True}, {"unembed"}),
    ],
)
def test_each_lora_site_alone(flags: dict[str, bool], sites: set[str]) -> None:
    model = tiny_model(LoraSpec(rank=2, seed=7, **flags))
    found = {".".join(s.split(".")[2:]) if s.startswith("layers.") else s for s in model.sites}
    assert found == sites
    rng = np.random.default_rng(3)
    _check_gradients(model, [ce_datum(rng, 5, TINY.vocab_size)], "cross_entropy")
    _check_gradients(model, _rl_batch(model, seed=8), "ppo")


def _reference_loss(loss_fn: str, lp: np.ndarray, inputs: Mapping[str, Any], config: dict[str, float]) -> float:
    """The formulas as the Tinker docs write them, independent of tinkerlite.local.losses."""
    if loss_fn == "cross_entropy":
        return float(-np.sum(inputs["weights"] * lp))
    lp_s, adv = inputs["logprobs"], inputs["advantages"]
    ratio = np.exp(lp - lp_s)
    low, high = config.get("clip_low_threshold", 0.9), config.get("clip_high_threshold", 1.1)
    if loss_fn == "importance_sampling":
        return float(-np.sum(ratio * adv))
    if loss_fn == "ppo":
        return float(-np.sum(np.minimum(ratio * adv, np.clip(ratio, low, high) * adv)))
    if loss_fn == "cispo":
        return float(-np.sum(np.clip(ratio, low, high) * lp * adv))
    beta = config.get("beta", 0.01)
    return float(-np.sum(lp * adv - 0.5 * beta * (lp - lp_s) ** 2))


@pytest.mark.parametrize("loss_fn", ("cross_entropy", *RL_LOSSES))
@pytest.mark.parametrize("custom_config", [False, True])
def test_loss_values_match_the_documented_formulas(loss_fn: str, custom_config: bool) -> None:
    config: dict[str, float] = {}
    if custom_config:
        config = {
            "ppo": {"clip_low_threshold": 0.8, "clip_high_threshold": 1.3},
            "cispo": {"clip_low_threshold": 0.95, "clip_high_threshold": 1.05},
            "dro": {"beta": 0.5},
        }.get(loss_fn, {})
    model = tiny_model(dtype="float32")
    batch = _rl_batch(model, seed=9, spread=0.6)
    if loss_fn == "cross_entropy":
        rng = np.random.default_rng(9)
        batch = [ce_datum(rng, 7, TINY.vocab_size), ce_datum(rng, 4, TINY.vocab_size)]
    outputs, metrics = model.forward_backward(batch, loss_fn, config, forward_only=True)
    expected = sum(
        (
            _reference_loss(loss_fn, out["logprobs"].astype(np.float64), d.loss_fn_inputs, config)
            for out, d in zip(outputs, batch, strict=True)
        ),
        0.0,
    )
    assert set(metrics) == {"loss:sum"}
    assert metrics["loss:sum"] == pytest.approx(expected, rel=1e-5, abs=1e-5)
    for out, d in zip(outputs, batch, strict=True):
        assert out["logprobs"].dtype == np.float32
        assert out["logprobs"].shape == d.loss_fn_inputs["target_tokens"].shape
        assert np.all(out["logprobs"] <= 0)
        assert float(np.sum(out["elementwise_loss"])) == pytest.approx(
            _reference_loss(loss_fn, out["logprobs"].astype(np.float64), d.loss_fn_inputs, config), rel=1e-5, abs=1e-5
        )


def test_ppo_clips_and_per_datum_thresholds_override_config() -> None:
    model = tiny_model()
    batch = _rl_batch(model, seed=12, spread=0.6)
    narrow = _loss(model, batch, "ppo", {"clip_low_threshold": 0.99, "clip_high_threshold": 1.01})
    wide = _loss(model, batch, "ppo", {"clip_low_threshold": 0.01, "clip_high_threshold": 100.0})
    assert wide == pytest.approx(_loss(model, batch, "importance_sampling", {}))
    assert narrow != pytest.approx(wide)
    batch = [
        DatumArrays(
            d.input_tokens,
            {
                **d.loss_fn_inputs,
                "clip_low_threshold": np.float32(0.99),
                "clip_high_threshold": np.full(d.input_tokens.shape, 1.01),
            },
        )
        for d in batch
    ]
    assert _loss(model, batch, "ppo", {"clip_low_threshold": 0.01, "clip_high_threshold": 100.0}) == pytest.approx(
        narrow
    )


def test_gradients_accumulate_and_forward_only_leaves_them_alone() -> None:
    model = tiny_model()
    rng = np.random.default_rng(5)
    batch = [ce_datum(rng, 6, TINY.vocab_size)]
    model.forward_backward(batch, "cross_entropy")
    once = {k: v.copy() for k, v in model.grads.items()}
    model.forward_backward(batch, "cross_entropy", forward_only=True)
    assert all(np.array_equal(model.grads[k], once[k]) for k in once)
    model.forward_backward(batch, "cross_entropy")
    for k in once:
        np.testing.assert_allclose(model.grads[k], 2 * once[k], rtol=1e-12, atol=1e-15)


def test_float32_logprobs_agree_with_float64() -> None:
    rng = np.random.default_rng(6)
    batch = [ce_datum(rng, 9, TINY.vocab_size)]
    lp64 = tiny_model().forward_backward(batch, "cross_entropy", forward_only=True)[0][0]["logprobs"]
    lp32 = tiny_model(dtype="float32").forward_backward(batch, "cross_entropy", forward_only=True)[0][0]["logprobs"]
    np.testing.assert_allclose(lp32, lp64, atol=1e-5)


def _datum(**inputs: object) -> DatumArrays:
    return DatumArrays(np.array([1, 2, 3]), {k: np.asarray(v) for k, v in inputs.items()})


@pytest.mark.parametrize(
    ("loss_fn", "config", "batch", "needle"),
    [
        ("nll", {}, [_datum(target_tokens=[1, 2, 3], weights=[1, 1, 1])], "unknown loss function 'nll'"),
        (
            "ppo",
            {},
            [
                _datum(target_tokens=[1, 2, 3], logprobs=[0, 0, 0], advantages=[1, 1, 1]),
                _datum(target_tokens=[1, 2, 3], logprobs=[0, 0, 0]),
            ],
            "data[1].loss_fn_inputs.advantages",
        ),
        ("cross_entropy", {}, [_datum(target_tokens=[1, 2, 3])], "data[0].loss_fn_inputs.weights"),
        ("cross_entropy", {}, [_datum(target_tokens=[1, 2, 3], weights=[1, 1])], "data[0].loss_fn_inputs.weights"),
        ("cross_entropy", {}, [_datum(target_tokens=[1, 2, 99], weights=[1, 1, 1])], "target_tokens"),
        ("cross_entropy", {}, [_datum(target_tokens=[1, 2], weights=[1, 1])], "target_tokens"),
        ("cross_entropy", {}, [_datum(target_tokens=[1, 2, 3], weights=[1, 1, 1], mask=[1, 1, 1])], "mask"),
        ("cross_entropy", {"beta": 0.1}, [_datum(target_tokens=[1, 2, 3], weights=[1, 1, 1])], "loss_fn_config.beta"),
        ("dro", {"beta": float("nan")}, [], "loss_fn_config.beta"),
        (
            "importance_sampling",
            {},
            [_datum(target_tokens=[1, 2, 3], logprobs=[0, float("nan"), 0], advantages=[1, 1, 1])],
            "logprobs",
        ),
        (
            "ppo",
            {"clip_low_threshold": 1.2, "clip_high_threshold": 1.1},
            [],
            "clip_low_threshold must not exceed",
        ),
    ],
)
def test_bad_requests_name_the_offending_field(
    loss_fn: str, config: dict[str, float], batch: list[DatumArrays], needle: str
) -> None:
    model = tiny_model(randomize=False)
    with pytest.raises(ValidationError) as info:
        model.forward_backward(batch, loss_fn, config)
    assert needle in str(info.value)
    assert all(not g.any() for g in model.grads.values())


def test_too_long_and_empty_inputs_are_rejected() -> None:
    model = tiny_model(randomize=False)
    long = TINY.max_seq_len + 1
    for n in (0, long):
        datum = DatumArrays(
            np.zeros(n, dtype=np.int64), {"target_tokens": np.zeros(n, np.int64), "weights": np.ones(n)}
        )
        with pytest.raises(ValidationError, match=r"data\[0\]\.model_input"):
            model.forward_backward([datum], "cross_entropy")
