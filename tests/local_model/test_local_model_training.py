"""AdamW by hand, learning, determinism and exact checkpoint round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.local import checkpoint_format
from tinkerlite.local.model import DatumArrays, LoraSpec, ModelConfig, TinyTransformer
from tinkerlite.local.optim import AdamParams, AdamW, clip_by_global_norm

from ._helpers import TINY, ce_datum, tiny_model


def test_first_adamw_step_is_lr_times_sign_after_decay() -> None:
    # With bias correction, step 1 has m̂ = g and v̂ = g², so the update is lr·g/(|g| + eps).
    p0 = np.array([1.0, -2.0, 0.5, 3.0])
    g = np.array([0.1, -4.0, 2e-3, 0.0])
    params, grads = {"w": p0.copy()}, {"w": g.copy()}
    AdamW(params).step(params, grads, AdamParams(learning_rate=0.1, weight_decay=0.5, eps=1e-12))
    expected = p0 * (1 - 0.1 * 0.5) - 0.1 * np.sign(g)
    np.testing.assert_allclose(params["w"], expected, rtol=1e-9, atol=1e-9)


def test_adamw_matches_the_torch_recurrence_over_several_steps() -> None:
    rng = np.random.default_rng(0)
    hp = AdamParams(learning_rate=0.01, beta1=0.8, beta2=0.9, eps=1e-8, weight_decay=0.1)
    p = rng.standard_normal(5)
    params = {"a": p.copy()}
    opt = AdamW(params)
    m = np.zeros(5)
    v = np.zeros(5)
    for t in range(1, 5):
        g = rng.standard_normal(5)
        opt.step(params, {"a": g.copy()}, hp)
        p = p * (1 - hp.learning_rate * hp.weight_decay)
        m = hp.beta1 * m + (1 - hp.beta1) * g
        v = hp.beta2 * v + (1 - hp.beta2) * g * g
        m_hat, v_hat = m / (1 - hp.beta1**t), v / (1 - hp.beta2**t)
        p = p - hp.learning_rate * m_hat / (np.sqrt(v_hat) + hp.eps)
        np.testing.assert_allclose(params["a"], p, rtol=1e-12, atol=1e-12)
    assert opt.step_count == 4


def test_global_norm_clipping() -> None:
    grads = {"a": np.array([3.0]), "b": np.array([[4.0, 0.0]])}
    assert clip_by_global_norm(grads, 0.0) == pytest.approx(5.0)
    assert grads["a"][0] == 3.0  # 0 disables
    assert clip_by_global_norm(grads, 10.0) == pytest.approx(5.0)
    assert grads["a"][0] == 3.0  # already below the limit
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose([grads["a"][0], grads["b"][0, 0]], [0.6, 0.8], rtol=1e-6)


def test_clipping_changes_the_step_only_through_the_gradient() -> None:
    # Adam is scale-invariant on step 1, so compare the second moments instead.
    params = {"w": np.zeros(2)}
    opt = AdamW(params)
    metrics = opt.step(params, {"w": np.array([30.0, 40.0])}, AdamParams(grad_clip_norm=5.0, beta2=0.5))
    assert metrics["grad_norm:mean"] == pytest.approx(50.0)
    np.testing.assert_allclose(opt.v["w"], 0.5 * np.array([3.0, 4.0]) ** 2, rtol=1e-6)


def test_bad_adam_params_are_rejected() -> None:
    with pytest.raises(ValidationError, match="beta2"):
        AdamParams(beta2=1.0)
    with pytest.raises(ValidationError, match="learning_rate"):
        AdamParams(learning_rate=float("nan"))


def test_model_optim_step_updates_adapters_and_zeroes_gradients() -> None:
    model = tiny_model(dtype="float32", randomize=False)
    rng = np.random.default_rng(1)
    model.forward_backward([ce_datum(rng, 8, TINY.vocab_size)], "cross_entropy")
    b_before = model.params["layers.0.attn.q.lora_B"].copy()
    a_before = model.params["layers.0.attn.q.lora_A"].copy()
    metrics = model.optim_step(learning_rate=1e-2)
    assert metrics["grad_norm:mean"] > 0 and all(":" in k and k.count(":") == 1 for k in metrics)
    assert not np.array_equal(model.params["layers.0.attn.q.lora_B"], b_before)  # B gets gradient at once
    assert np.array_equal(model.params["layers.0.attn.q.lora_A"], a_before)  # A only once B is non-zero
    assert all(not g.any() for g in model.grads.values())
    assert model.params["layers.0.attn.q.lora_B"].dtype == np.float32


def _toy_corpus() -> list[DatumArrays]:
    rng = np.random.default_rng(42)
    batch = []
    for _ in range(4):
        seq = rng.integers(0, 32, 17)
        batch.append(DatumArrays(seq[:-1], {"target_tokens": seq[1:], "weights": np.ones(16, np.float32)}))
    return batch


def _train(model: TinyTransformer, batch: list[DatumArrays], steps: range, loss_fn: str = "cross_entropy") -> None:
    for step in steps:
        if loss_fn == "cross_entropy" or step % 2 == 0:
            model.forward_backward(batch, "cross_entropy")
        else:
            model.forward_backward(batch[:2], "cross_entropy")
        model.optim_step(learning_rate=2e-2, weight_decay=0.01, grad_clip_norm=5.0)


def _small() -> TinyTransformer:
    config = ModelConfig(vocab_size=32, d_model=32, n_layers=2, n_heads=2, d_ff=64, max_seq_len=32, seed=1)
    return TinyTransformer(config, LoraSpec(rank=8, seed=2))


def test_cross_entropy_training_halves_the_nll() -> None:
    model, batch = _small(), _toy_corpus()
    before = model.forward_backward(batch, "cross_entropy", forward_only=True)[1]["loss:sum"]
    _train(model, batch, range(40))
    after = model.forward_backward(batch, "cross_entropy", forward_only=True)[1]["loss:sum"]
    n_tokens = 4 * 16
    assert before / n_tokens == pytest.approx(math.log(32), rel=0.3)  # a near-uniform random base model
    assert after <= 0.5 * before, (before, after)


def _state_bytes(model: TinyTransformer) -> dict[str, bytes]:
    return {k: v.tobytes() + str(v.dtype).encode() for k, v in model.state_dict(include_optimizer=True).items()}


def test_same_calls_give_bit_identical_weights() -> None:
    batch = _toy_corpus()
    first, second = _small(), _small()
    _train(first, batch, range(6), loss_fn="mixed")
    _train(second, batch, range(6), loss_fn="mixed")
    assert _state_bytes(first) == _state_bytes(second)


def test_checkpoint_round_trip_continues_bit_identically() -> None:
    batch = _toy_corpus()
    uninterrupted = _small()
    _train(uninterrupted, batch, range(3))
    saved = checkpoint_format.dumps(uninterrupted.state_dict(include_optimizer=True))
    _train(uninterrupted, batch, range(3, 6))

    resumed = _small()
    resumed.load_state_dict(checkpoint_format.loads(saved))
    assert resumed.optimizer.step_count == 3
    _train(resumed, batch, range(3, 6))
    assert _state_bytes(resumed) == _state_bytes(uninterrupted)


def test_weights_only_load_resets_the_optimizer() -> None:
    batch = _toy_corpus()
    trained = _small()
    _train(trained, batch, range(2))
    fresh = _small()
    fresh.load_state_dict(trained.state_dict(include_optimizer=False))
    assert fresh.optimizer.step_count == 0
    for name in trained.params:
        assert np.array_equal(fresh.params[name], trained.params[name])
    a = trained.forward_backward(batch, "cross_entropy", forward_only=True)[0]
    b = fresh.forward_backward(batch, "cross_entropy", forward_only=True)[0]
    assert all(np.array_equal(x["logprobs"], y["logprobs"]) for x, y in zip(a, b, strict=True))


def test_loading_into_a_different_model_fails() -> None:
    state = _small().state_dict()
    other = TinyTransformer(
        ModelConfig(vocab_size=32, d_model=32, n_layers=2, n_heads=2, d_ff=64, max_seq_len=32, seed=9),
        LoraSpec(rank=8, seed=2),
    )
    with pytest.raises(ValidationError, match="another model"):
        other.load_state_dict(state)
    with pytest.raises(ValidationError, match="not a tinkerlite checkpoint"):
        checkpoint_format.loads(b"definitely not a zip")
    state.pop("lora.unembed.lora_B")
    with pytest.raises(ValidationError, match=r"unembed\.lora_B"):
        _small().load_state_dict(state)


def test_lora_spec_validation() -> None:
    with pytest.raises(ValidationError):
        LoraSpec(train_attn=False, train_mlp=False, train_unembed=False)
    with pytest.raises(ValidationError):
        LoraSpec(rank=0)
    assert LoraSpec(rank=16).scale == 1.0
    assert LoraSpec(rank=16, alpha=32).scale == 2.0
    with pytest.raises(ValidationError):
        ModelConfig(vocab_size=10, d_model=30, n_heads=4)


def test_models_can_share_frozen_base_weights() -> None:
    batch = _toy_corpus()
    owner = _small()
    sharer = TinyTransformer(owner.config, LoraSpec(rank=8, seed=2), base=owner.base)
    assert sharer.base["embed"] is owner.base["embed"]
    a = owner.forward_backward(batch, "cross_entropy", forward_only=True)[0]
    b = sharer.forward_backward(batch, "cross_entropy", forward_only=True)[0]
    assert all(np.array_equal(x["logprobs"], y["logprobs"]) for x, y in zip(a, b, strict=True))
    with pytest.raises(ValidationError, match="base"):
        TinyTransformer(ModelConfig(vocab_size=33, d_model=32, n_heads=2, d_ff=64, max_seq_len=32), base=owner.base)
