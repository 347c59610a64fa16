"""The vectorised sampler: its blocked inverse-CDF search, all-rows-at-once draws, and large vocabularies."""

from __future__ import annotations

import numpy as np
import pytest

from tinkerlite.local import sampling
from tinkerlite.local.sampling import SamplingParams, choose_token, choose_tokens


def _full_search(e: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The reference: one cumulative sum over the whole row, ``searchsorted(side="right")``."""
    cum = np.cumsum(e, axis=1)
    return np.minimum(
        np.array([np.searchsorted(c, v, side="right") for c, v in zip(cum, x, strict=True)]), e.shape[1] - 1
    )


@pytest.mark.parametrize("n", [1, 7, 1024, 1025, 5000, 151_936])
def test_blocked_search_agrees_with_the_full_cumulative_sum(n: int) -> None:
    rng = np.random.default_rng(n)
    e = np.exp(rng.normal(0, 3, (16, n)))
    x = rng.random(16) * np.sum(e, axis=1)
    got = sampling._pick(e, x)
    want = _full_search(e, x)
    # The two sum in different orders; they may disagree only where x sits within rounding of a boundary.
    cum = np.cumsum(e, axis=1)
    for b in np.flatnonzero(got != want):
        assert abs(cum[b, min(got[b], want[b])] - x[b]) <= 1e-9 * cum[b, -1]
    assert (got == want).mean() >= 15 / 16


@pytest.mark.parametrize("n", [500, 3000])
def test_search_never_picks_a_token_without_mass(n: int) -> None:
    rng = np.random.default_rng(0)
    e = np.zeros((64, n))
    for b in range(64):  # a few live tokens per row, most of the vocabulary underflowed to 0
        e[b, rng.choice(n, 3, replace=False)] = rng.random(3) + 1e-3
    for trial in range(20):
        x = rng.random(64) * np.sum(e, axis=1)
        if trial == 0:
            x = np.sum(e, axis=1)  # the very end of the distribution: rounding's worst case
        picked = sampling._pick(e, x)
        assert np.all(e[np.arange(64), picked] > 0)


def test_rows_at_once_equal_rows_one_by_one() -> None:
    """One uniform per row in row order: the vectorised draw equals the per-row draws it replaces."""
    logits = np.random.default_rng(3).normal(0, 2, (9, 700))
    for params in (
        SamplingParams(seed=1),
        SamplingParams(temperature=0.7, seed=2),
        SamplingParams(top_k=5, seed=3),
        SamplingParams(top_p=0.8, seed=4),
        SamplingParams(top_k=50, top_p=0.5, temperature=1.3, seed=5),
        SamplingParams(temperature=0),
    ):
        rng_a = np.random.Generator(np.random.PCG64(params.seed or 0))
        rng_b = np.random.Generator(np.random.PCG64(params.seed or 0))
        tokens, logprobs = choose_tokens(logits, params, rng_a)
        one_by_one = [choose_token(row, params, rng_b) for row in logits]
        assert tokens.tolist() == [t for t, _ in one_by_one]
        np.testing.assert_allclose(logprobs, [lp for _, lp in one_by_one], rtol=0, atol=1e-12)


def test_large_vocabulary_draws_follow_the_softmax() -> None:
    """151,936 ids, mass on a handful of them: the blocked search finds them at their probabilities."""
    v = 151_936
    logits = np.full((1, v), -40.0)
    hot = np.array([3, 1023, 1024, 77_777, v - 1])
    logits[0, hot] = np.log([0.4, 0.2, 0.2, 0.1, 0.1])
    rng = np.random.Generator(np.random.PCG64(0))
    draws = np.concatenate([choose_tokens(np.repeat(logits, 500, axis=0), SamplingParams(), rng)[0] for _ in range(8)])
    freq = np.array([np.mean(draws == t) for t in hot])
    np.testing.assert_allclose(freq, [0.4, 0.2, 0.2, 0.1, 0.1], atol=0.02)
    assert set(np.unique(draws)) <= set(hot.tolist())


def test_float32_logits_with_a_tiny_temperature_stay_finite() -> None:
    """float32 logits / 1e-38 overflow (30 / 1e-38 > 3.4e38): such draws run in float64 and pick the argmax."""
    logits = np.array([[1.0, 30.0, 2.0], [50.0, -1.0, 0.25]], dtype=np.float32)
    rng = np.random.Generator(np.random.PCG64(0))
    tokens, logprobs = choose_tokens(logits, SamplingParams(temperature=1e-38), rng)
    assert tokens.tolist() == [1, 0]
    assert np.all(np.isfinite(logprobs))
