"""Dimuon (SDK 0.38's second optimizer family) in the local model: the update's orthogonality, its size,
momentum, checkpoints, and that it trains. The model is numpy-only, so there is no pure path to compare."""

from __future__ import annotations

import numpy as np
import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.local.dimuon import Dimuon, DimuonParams, matrix_sign
from tinkerlite.local.model import LoraSpec, TinyTransformer

from ._helpers import TINY, ce_datum


def _singular_values(x: np.ndarray) -> np.ndarray:
    return np.linalg.svd(x, compute_uv=False)


@pytest.mark.parametrize("shape", [(40, 3), (3, 40), (8, 8), (19, 5)])
def test_matrix_sign_is_the_polar_factor(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    d = matrix_sign(x)
    np.testing.assert_allclose(_singular_values(d), 1.0, atol=1e-6)
    u, _, vt = np.linalg.svd(x, full_matrices=False)
    np.testing.assert_allclose(d, u @ vt, atol=1e-6)  # the nearest semi-orthogonal matrix, not just any
    assert np.linalg.norm(d) == pytest.approx(np.sqrt(min(shape)), rel=1e-6)


def test_matrix_sign_of_rank_deficient_and_zero_matrices() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 2)) @ rng.normal(size=(2, 6))  # rank 2
    s = _singular_values(matrix_sign(x))
    np.testing.assert_allclose(s[:2], 1.0, atol=1e-6)
    np.testing.assert_allclose(s[2:], 0.0, atol=1e-6)
    assert not matrix_sign(np.zeros((4, 3))).any()
    assert matrix_sign(np.ones((2, 2), np.float32)).dtype == np.float32


def _model(optimizer: str, seed: int = 0) -> TinyTransformer:
    model = TinyTransformer(TINY, LoraSpec(rank=3, alpha=6.0, seed=5), dtype="float64", optimizer=optimizer)
    rng = np.random.default_rng(seed)
    for arr in model.params.values():
        arr[...] = rng.normal(0.0, 0.3, arr.shape)
    return model


def test_one_step_moves_every_matrix_by_an_orthogonal_direction_of_the_documented_size() -> None:
    model = _model("dimuon")
    rng = np.random.default_rng(2)
    model.forward_backward([ce_datum(rng, 8, TINY.vocab_size)], "cross_entropy")
    grads = {k: v.copy() for k, v in model.grads.items()}
    before = {k: v.copy() for k, v in model.params.items()}
    lr = 1e-3
    metrics = model.apply_optimizer(DimuonParams(learning_rate=lr))
    assert metrics["learning_rate:mean"] == lr and np.isfinite(metrics["grad_norm:mean"])
    scale = lr * (32 / 3) ** 0.5  # default rank_lr_correction_exponent 0.5, LoRA rank 3
    for k, p in model.params.items():
        step = (before[k] - p) / scale
        assert np.all(np.isfinite(step))
        np.testing.assert_allclose(_singular_values(step), 1.0, atol=1e-5)
        assert np.linalg.norm(before[k] - p) == pytest.approx(lr * np.sqrt(32), rel=1e-5)
        # A descent direction: the update has a positive inner product with the gradient.
        assert float(np.sum(step * grads[k])) > 0
    assert all(not g.any() for g in model.grads.values())


def test_momentum_is_an_ema_and_damping_only_reshapes_the_direction() -> None:
    rng = np.random.default_rng(3)
    params = {"w": rng.normal(size=(6, 4))}
    opt = Dimuon(params, rank=4)
    g1, g2 = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    opt.step(params, {"w": g1.copy()}, DimuonParams(learning_rate=0.1, beta1=0.8))
    opt.step(params, {"w": g2.copy()}, DimuonParams(learning_rate=0.1, beta1=0.8))
    np.testing.assert_allclose(opt.momentum["w"], 0.8 * 0.2 * g1 + 0.2 * g2, rtol=1e-12)
    # Huge damping is plain Muon: the direction is msign(momentum) itself.
    plain = opt.direction(opt.momentum["w"], DimuonParams(learning_rate=0.1, damping=1e9))
    np.testing.assert_allclose(plain, matrix_sign(opt.momentum["w"]), atol=1e-6)
    shaped = opt.direction(opt.momentum["w"], DimuonParams(learning_rate=0.1, damping=0.01))
    np.testing.assert_allclose(_singular_values(shaped), 1.0, atol=1e-5)
    assert not np.allclose(shaped, plain, atol=1e-3)
    # Vectors count as 1 x n matrices: their sign is v / |v|.
    v = rng.normal(size=5)
    np.testing.assert_allclose(
        Dimuon({"v": v}).direction(v, DimuonParams(learning_rate=1.0, damping=1e9)), v / np.linalg.norm(v), atol=1e-6
    )


def test_grad_clipping_and_rank_correction() -> None:
    rng = np.random.default_rng(4)
    params = {"w": rng.normal(size=(6, 4))}
    opt = Dimuon(params, rank=8)
    metrics = opt.step(
        params, {"w": 100 * rng.normal(size=(6, 4))}, DimuonParams(learning_rate=0.0, grad_clip_norm=1.0)
    )
    assert metrics["grad_norm:mean"] > 100
    assert np.linalg.norm(opt.momentum["w"]) == pytest.approx(0.1, rel=1e-4)  # (1 - beta1) * clipped norm 1
    assert opt.lr_scale((6, 4), DimuonParams(learning_rate=1.0, rank_lr_correction_exponent=0.0)) == 1.0
    assert opt.lr_scale((6, 4), DimuonParams(learning_rate=1.0, rank_lr_correction_exponent=1.0)) == 4.0


def test_dimuon_trains_and_resumes_exactly() -> None:
    rng = np.random.default_rng(5)
    batch = [ce_datum(rng, 9, TINY.vocab_size), ce_datum(rng, 6, TINY.vocab_size)]
    for d in batch:
        d.loss_fn_inputs["weights"][...] = 1.0

    def train(model: TinyTransformer, steps: int) -> list[float]:
        out = []
        for _ in range(steps):
            out.append(model.forward_backward(batch, "cross_entropy")[1]["loss:sum"])
            model.apply_optimizer(DimuonParams(learning_rate=0.02))
        return out

    model = _model("dimuon")
    losses = train(model, 12)
    assert losses[-1] < 0.7 * losses[0], losses
    assert all(np.isfinite(losses))
    # A full-state checkpoint resumes bit-identically, and as Dimuon even into a model built for AdamW.
    state = model.state_dict()
    assert any(k.startswith("optim.momentum.") for k in state)
    resumed = _model("adamw", seed=9)
    resumed.load_state_dict(state)
    assert resumed.optimizer_kind == "dimuon"
    assert train(resumed, 3) == train(model, 3)


def test_params_must_match_the_family_and_be_in_range() -> None:
    model = _model("dimuon")
    with pytest.raises(ValidationError, match="created with the dimuon optimizer"):
        model.optim_step(learning_rate=1e-3)
    with pytest.raises(ValidationError, match="created with the adamw optimizer"):
        _model("adamw").apply_optimizer(DimuonParams(learning_rate=1e-3))
    for bad in ({"learning_rate": -1.0}, {"learning_rate": 1.0, "beta1": 1.0}, {"learning_rate": 1.0, "damping": 0.0}):
        with pytest.raises(ValidationError, match="optimizer_params"):
            DimuonParams(**bad)
    with pytest.raises(ValidationError, match=r"optimizer_config\.type"):
        TinyTransformer(TINY, LoraSpec(rank=2), optimizer="sgd")
