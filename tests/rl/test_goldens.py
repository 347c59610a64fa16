"""Equality with the official cookbook (0.6.1) on generated inputs; goldens from tests/golden/make_rl_goldens.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.completers import TokensWithLogprobs
from tinkerlite.rl.data_processing import assemble_training_data, compute_advantages, remove_constant_reward_groups
from tinkerlite.rl.metric_util import compute_trajectory_metrics
from tinkerlite.rl.metrics import (
    compute_kl_sample_train,
    compute_post_kl,
    discounted_future_sum,
    incorporate_kl_penalty,
)
from tinkerlite.rl.types import Trajectory, TrajectoryGroup, Transition
from tinkerlite.types import Datum, EncodedTextChunk, ImageChunk, ModelInput

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "rl_goldens.json"
F32 = {"rel": 2e-6, "abs": 2e-6}


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text())  # type: ignore[no-any-return]


def _model_input(items: list[Any]) -> ModelInput:
    """Spec items are token ids or ``{"image": n_tokens, "data": hex}``."""
    chunks: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            chunks.append(ImageChunk(data=bytes.fromhex(item["data"]), format="png", expected_tokens=item["image"]))
        elif chunks and isinstance(chunks[-1], EncodedTextChunk):
            chunks[-1] = EncodedTextChunk(tokens=[*chunks[-1].tokens, item])
        else:
            chunks.append(EncodedTextChunk(tokens=[item]))
    return ModelInput(chunks=chunks)


def _chunks(mi: ModelInput) -> list[Any]:
    return [list(c.tokens) if isinstance(c, EncodedTextChunk) else {"image": c.length} for c in mi.chunks]


def _groups(inputs: dict[str, Any]) -> list[TrajectoryGroup]:
    def traj(spec: dict[str, Any]) -> Trajectory:
        trs = [
            Transition(
                ob=_model_input(s["ob"]),
                ac=TokensWithLogprobs(
                    tokens=s["ac_tokens"],
                    maybe_logprobs=s["ac_logprobs"],
                    sequence_id=s["sequence_id"],
                    prompt_cache_hit_tokens=s["prompt_cache_hit_tokens"],
                ),
                reward=s["reward"],
                episode_done=s["episode_done"],
                metrics=dict(s["metrics"]),
            )
            for s in spec["transitions"]
        ]
        return Trajectory(transitions=trs, final_ob=_model_input(spec["final_ob"]))

    return [
        TrajectoryGroup([traj(t) for t in g["trajectories"]], list(g["final_rewards"]), [dict(m) for m in g["metrics"]])
        for g in inputs["groups"]
    ]


def _dump(d: Datum) -> dict[str, Any]:
    spans = None
    if d.model_input_spans is not None and d.loss_fn_input_spans is not None:
        spans = {
            "model_input": [[type(s).__name__, s.sequence_id, s.offset, s.length] for s in d.model_input_spans],
            "loss_fn_input": [[type(s).__name__, s.sequence_id, s.offset, s.length] for s in d.loss_fn_input_spans],
        }
    return {
        "model_input": _chunks(d.model_input),
        "loss_fn_inputs": {k: list(v.dense_flat()) for k, v in d.loss_fn_inputs.items()},
        "spans": spans,
    }


def _assert_data(ours: list[Datum], theirs: list[dict[str, Any]]) -> None:
    assert len(ours) == len(theirs)
    for i, (o, t) in enumerate(zip(ours, theirs, strict=True)):
        od = _dump(o)
        assert od["model_input"] == t["model_input"], i
        assert od["spans"] == t["spans"], i
        assert set(od["loss_fn_inputs"]) == set(t["loss_fn_inputs"]), i
        for k, v in t["loss_fn_inputs"].items():
            assert od["loss_fn_inputs"][k] == pytest.approx(v, **F32), (i, k)


def test_golden_provenance(golden: dict[str, Any]) -> None:
    assert golden["official"]["versions"]["tinker-cookbook"] == "0.6.1"
    images = [d for d in golden["official"]["assemble"]["data"] if any(isinstance(c, dict) for c in d["model_input"])]
    assert len(images) == 3  # the image trajectories are covered (and merged into one datum each)


def test_advantages_and_assembly(golden: dict[str, Any], backend: str) -> None:
    off = golden["official"]
    groups = _groups(golden["inputs"])
    advs = compute_advantages(groups)
    assert len(advs) == len(off["advantages"])
    for a, b in zip(advs, off["advantages"], strict=True):
        assert a == pytest.approx(b, **F32)
    data, meta = assemble_training_data(groups, advs)
    _assert_data(data, off["assemble"]["data"])
    assert meta == off["assemble"]["metadata"]
    data_np, meta_np = assemble_training_data(groups, advs, include_provenance=False)
    _assert_data(data_np, off["assemble_no_provenance"]["data"])
    assert meta_np == off["assemble_no_provenance"]["metadata"]
    kept = remove_constant_reward_groups(groups)
    assert [groups.index(g) for g in kept] == off["remove_constant_reward_groups"]


def test_kl_metrics(golden: dict[str, Any], backend: str) -> None:
    off = golden["official"]
    groups = _groups(golden["inputs"])
    data, _ = assemble_training_data(groups, compute_advantages(groups))
    got = compute_kl_sample_train(data, off["training_logprobs"])
    assert got == pytest.approx(off["kl_sample_train"], rel=1e-5)

    class Scorer:
        def __init__(self) -> None:
            self.seen: list[list[Any]] = []

        async def compute_logprobs_async(self, prompt: ModelInput) -> list[float | None]:
            self.seen.append(_chunks(prompt))
            return off["reference_prompt_logprobs"][len(self.seen) - 1]  # type: ignore[no-any-return]

    scorer = Scorer()
    assert asyncio.run(compute_post_kl(data, scorer)) == pytest.approx(off["post_kl"], rel=1e-5)
    assert scorer.seen == off["scored_sequences"]
    for coef, gamma in ((0.1, 0.0), (0.05, 0.9)):
        fresh, _ = assemble_training_data(groups, compute_advantages(groups))
        metrics = asyncio.run(incorporate_kl_penalty(fresh, Scorer(), coef, gamma))
        want = off[f"kl_penalty_{coef}_{gamma}"]
        assert metrics == pytest.approx(want["metrics"], rel=1e-5)
        for d, adv in zip(fresh, want["advantages"], strict=True):
            got_adv = list(d.loss_fn_inputs["advantages"].dense_flat())
            mask = list(d.loss_fn_inputs["mask"].dense_flat())
            # Equal on action tokens; on observation tokens the cookbook leaks discounted KL (gamma > 0)
            # where we keep the advantage at 0 (see rl.metrics.masked_discounted_sum).
            assert [a for a, m in zip(got_adv, mask, strict=True) if m] == pytest.approx(
                [a for a, m in zip(adv, mask, strict=True) if m], rel=1e-5, abs=1e-6
            )
            assert all(a == 0.0 for a, m in zip(got_adv, mask, strict=True) if not m)
            if gamma == 0.0:
                assert got_adv == pytest.approx(adv, rel=1e-5, abs=1e-6)
    dfs = off["discounted_future_sum"]
    assert discounted_future_sum(dfs["x"], dfs["gamma"]) == pytest.approx(dfs["out"], **F32)


def test_trajectory_metrics(golden: dict[str, Any], backend: str) -> None:
    off = golden["official"]
    groups = _groups(golden["inputs"])
    tags = [g["tags"] for g in golden["inputs"]["groups"]]
    assert compute_trajectory_metrics(groups, tags) == pytest.approx(off["trajectory_metrics"], rel=1e-12)
    untagged = compute_trajectory_metrics(groups, [[] for _ in groups])
    assert untagged == pytest.approx(off["trajectory_metrics_untagged"], rel=1e-12)
