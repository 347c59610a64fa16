"""tinkerlite's closed-form DPO loss/gradient against the official cookbook's torch-autograd step.

The goldens (tests/golden/dpo_goldens.json) come from ``tests/golden/make_dpo_goldens.py``, which runs
``tinker_cookbook.preference.train_dpo.do_update`` (tinker-cookbook 0.6.1, torch 2.13.0, float32) on
stored inputs. tinkerlite computes in float64, hence float32-level tolerances.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.preference.dpo_loss import make_dpo_loss_fn
from tinkerlite.types import Datum, ModelInput, TensorData
from tinkerlite.utils.lr_scheduling import compute_schedule_lr_multiplier

GOLDENS = json.loads((Path(__file__).resolve().parents[1] / "golden" / "dpo_goldens.json").read_text())
CASES = list(zip(GOLDENS["cases"], GOLDENS["official"], strict=True))


def _datum(s: dict[str, Any]) -> Datum:
    toks = s["tokens"]
    n = len(toks) - 1
    return Datum(
        model_input=ModelInput.from_ints(toks[:-1]),
        loss_fn_inputs={
            "target_tokens": TensorData(toks[1:], "int64", [n]),
            "weights": TensorData(s["weights"], "float32", [n]),
        },
    )


def close(a: float, b: float, scale: float = 1.0) -> bool:
    return math.isclose(a, b, rel_tol=2e-5, abs_tol=2e-6 * max(scale, 1e-30))


@pytest.mark.parametrize("idx", range(len(CASES)))
def test_matches_official_autograd(backend: str, idx: int) -> None:
    case, official = CASES[idx]
    data, logprobs, refs = [], [], []
    for pair in case["pairs"]:
        for side in ("chosen", "rejected"):
            data.append(_datum(pair[side]))
            logprobs.append(pair[side]["logprobs"])
            refs.append(pair[side]["ref"])
    loss, metrics, grads = make_dpo_loss_fn(refs, case["beta"])(data, logprobs)
    assert close(loss, official["loss"], abs(official["loss"])), (loss, official["loss"])
    for key, want in official["metrics"].items():
        # float32 sums of ~20 log-probs of size ~1 carry ~1e-6 absolute error before the β scaling
        assert close(metrics[key], want, abs(want) + 5.0), (key, metrics[key], want)
    scale = case["beta"] / len(case["pairs"])  # |∂L/∂lp| ≤ β·max(w)/B
    assert len(grads) == len(official["grads"])
    for i, (ours, theirs) in enumerate(zip(grads, official["grads"], strict=True)):
        assert len(ours) == len(theirs)
        for t, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert close(a, b, scale), (i, t, a, b)
    assert official["num_pairs"] == len(case["pairs"])


def test_lr_schedule_matches_official_step() -> None:
    # The goldens ran do_update at step 1 of 4 with learning_rate 1e-5 and the linear schedule.
    lr = 1e-5 * compute_schedule_lr_multiplier("linear", 1, 4)
    assert all(math.isclose(o["learning_rate"], lr, rel_tol=1e-12) for o in GOLDENS["official"])


def test_goldens_cover_saturated_margins() -> None:
    margins = [o["metrics"]["margin"] for o in GOLDENS["official"]]
    assert max(margins) > 50 and min(margins) < -50
