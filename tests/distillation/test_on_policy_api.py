"""The cookbook's ``distillation.train_on_policy`` functions: ``incorporate_kl_penalty`` (against the official
goldens), ``prepare_minibatch`` (teacher routing, the KL folded into the advantages) on real rollouts, and
``do_train_step_and_get_sampling_client`` / ``do_sync_training`` driven as cookbook code drives them, with
the cookbook's ``CheckpointManager``, against the local server."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")

from tests.utils.local_service import service
from tinkerlite.checkpoint_utils import CheckpointManager, load_checkpoints_file
from tinkerlite.client.service_client import ServiceClient
from tinkerlite.completers import TinkerTokenCompleter
from tinkerlite.distillation.datasets import (
    CompositeDataset,
    DistillationDatasetConfig,
    PromptOnlyEnvGroupBuilder,
    TeacherConfig,
)
from tinkerlite.distillation.train_on_policy import (
    _AdamSettings,
    do_sync_training,
    do_train_step_and_get_sampling_client,
    incorporate_kl_penalty,
    prepare_minibatch,
    run,
)
from tinkerlite.eval.evaluators import SamplingClientEvaluator
from tinkerlite.renderers import get_renderer
from tinkerlite.rl.rollouts import gather_group_rollouts
from tinkerlite.types import AdamParams, ModelInput
from tinkerlite.utils.files import read_jsonl
from tinkerlite.utils.ml_log import JsonLogger

from .test_kl import DISTILL, StoredTeacher
from .test_kl import datum as make_datum
from .test_train_on_policy import MODEL, _builder, _config, _prompts

__all__ = ["service"]  # the fixture, imported


@pytest.mark.parametrize("idx", range(len(DISTILL)))
def test_incorporate_kl_penalty_matches_the_official_metrics(backend: str, idx: int) -> None:
    case, official = DISTILL[idx]
    data = [make_datum(d["tokens"], d["logprobs"], d["mask"], d["advantages"]) for d in case["datums"]]
    teachers = [StoredTeacher(d["teacher"]) for d in case["datums"]]
    indices = [d["dataset"] for d in case["datums"]]
    metrics = asyncio.run(incorporate_kl_penalty(data, teachers, indices, case["coef"], case["gamma"]))  # type: ignore[arg-type]
    assert metrics == pytest.approx(official["metrics"], rel=1e-5, abs=1e-6)
    for d, theirs, spec in zip(data, official["advantages"], case["datums"], strict=True):
        for a, b, m in zip(d.loss_fn_inputs["advantages"].dense_flat(), theirs, spec["mask"], strict=True):
            if m > 0:  # action tokens; observation tokens differ only by the documented masking (test_kl)
                assert a == pytest.approx(b, rel=1e-5, abs=1e-5)


class ConstTeacher:
    """A teacher that gives every token the same log-prob and records what it scored."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.seen: list[list[int]] = []

    async def compute_logprobs_async(self, seq: ModelInput) -> list[float | None]:
        self.seen.append(list(seq.to_ints()))
        return [None] + [self.value] * (seq.length - 1)


def _student(service: ServiceClient) -> tuple[Any, Any]:
    tc = service.create_lora_training_client(base_model=MODEL, rank=4).result()
    return tc, tc.save_weights_and_get_sampling_client().result()


def test_prepare_minibatch_routes_each_group_to_its_teacher(service: ServiceClient, backend: str) -> None:
    tc, sampler = _student(service)
    tok = tc.get_tokenizer()
    renderer = get_renderer("role_colon", tok)
    builders = [
        PromptOnlyEnvGroupBuilder(p, renderer, 2, dataset_name=f"d{i % 2}") for i, p in enumerate(_prompts(0, 3))
    ]
    groups = asyncio.run(gather_group_rollouts(builders, TinkerTokenCompleter(sampler, 8, 1.0)))
    teachers = [ConstTeacher(-1.0), ConstTeacher(-3.0)]
    data, metrics = asyncio.run(prepare_minibatch(builders, groups, tok, [0, 1, 0], teachers, 2.0, 0.0))  # type: ignore[arg-type]
    assert len(data) == 6 and len(teachers[0].seen) == 4 and len(teachers[1].seen) == 2
    by_ds: dict[int, list[float]] = {0: [0.0, 0.0], 1: [0.0, 0.0]}
    for k, d in enumerate(data):
        ds = 1 if k in (2, 3) else 0  # the groups' datums in order: group 1 (dataset 1) is datums 2 and 3
        seq = [*d.model_input.to_ints(), int(d.loss_fn_inputs["target_tokens"].dense_flat()[-1])]
        assert seq in teachers[ds].seen
        lp = d.loss_fn_inputs["logprobs"].dense_flat()
        mask = d.loss_fn_inputs["mask"].dense_flat()
        t = teachers[ds].value
        want = [-2.0 * m * (q - t) * m for q, m in zip(lp, mask, strict=True)]
        assert list(d.loss_fn_inputs["advantages"].dense_flat()) == pytest.approx(want, rel=1e-5, abs=1e-6)
        by_ds[ds][0] += sum((q - t) * m for q, m in zip(lp, mask, strict=True))
        by_ds[ds][1] += sum(mask)
    for ds, (kl, n) in by_ds.items():
        assert metrics[f"teacher_kl/dataset_{ds}"] == pytest.approx(kl / n, rel=1e-5)
    assert "env/all/reward/total" in metrics and "env/d1/total_ac_tokens" in metrics

    # No penalty: no teacher is asked, and the advantages stay the env's (0).
    quiet = [ConstTeacher(-1.0), ConstTeacher(-1.0)]
    data, metrics = asyncio.run(prepare_minibatch(builders, groups, None, [0, 1, 0], quiet, 0.0, 0.0))  # type: ignore[arg-type]
    assert not quiet[0].seen and not quiet[1].seen and "teacher_kl" not in metrics
    assert all(set(d.loss_fn_inputs["advantages"].dense_flat()) == {0.0} for d in data)


class _Probe(SamplingClientEvaluator):
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, sampling_client: Any) -> dict[str, float]:
        self.calls += 1
        return {"probe": float(len(sampling_client.compute_logprobs(ModelInput.from_ints([1, 2])).result()))}


def test_do_sync_training_as_cookbook_code_calls_it(service: ServiceClient, tmp_path: Path) -> None:
    tc, _ = _student(service)
    teacher = service.create_sampling_client(base_model=MODEL).result()
    cfg = DistillationDatasetConfig(
        dataset_builder=_builder(_prompts(0, 8), 2, 2, "p"),
        teacher_config=TeacherConfig(base_model=MODEL),
        groups_per_batch=2,
    )
    config = _config(tmp_path, [cfg], max_tokens=8, eval_every=2, save_every=1)
    train, _ = asyncio.run(cfg.dataset_builder())
    dataset = CompositeDataset([train], [2])
    mgr = CheckpointManager(training_client=tc, service_client=service, log_path=str(tmp_path), save_every=1)
    probe = _Probe()
    ml = JsonLogger(tmp_path)
    asyncio.run(do_sync_training(0, 3, len(dataset), config, tc, mgr, service, [probe], dataset, [teacher], ml, None))
    rows = read_jsonl(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in rows] == [0, 1, 2]
    for key in ("teacher_kl", "teacher_kl/dataset_0", "optim/kl_sample_train_v1", "progress/done_frac", "time/total"):
        assert all(key in r for r in rows), key
    assert rows[0]["teacher_kl"] == pytest.approx(0.0, abs=0.05)  # student == base teacher before an update
    # The student moved away from the base teacher (the sampled estimate can have either sign).
    assert max(abs(rows[1]["teacher_kl"]), abs(rows[2]["teacher_kl"])) > 1e-5
    assert probe.calls == 2 and rows[0]["test/probe"] == 2.0 and "test/probe" not in rows[1]  # steps 0 and 2
    # The cookbook's manager saved after each step, named by the steps applied.
    assert [r.batch for r in load_checkpoints_file(tmp_path)] == [1, 2, 3]

    # One more step by hand: a new sampler on the new weights, the step's metrics.
    builders, indices = dataset.get_batch(3)
    sampler = tc.save_weights_and_get_sampling_client().result()
    groups = asyncio.run(gather_group_rollouts(builders, TinkerTokenCompleter(sampler, 8, 1.0)))
    new_sampler, metrics = asyncio.run(
        do_train_step_and_get_sampling_client(
            config,
            3,
            tc,
            mgr,
            service,
            None,
            builders,
            groups,
            indices,
            [teacher],  # type: ignore[arg-type]
        )
    )
    seq = ModelInput.from_ints([5, 6, 7, 8])
    assert new_sampler.compute_logprobs(seq).result() != sampler.compute_logprobs(seq).result()
    assert math.isfinite(metrics["teacher_kl"]) and "optim/kl_sample_train_v2" in metrics
    assert [r.batch for r in load_checkpoints_file(tmp_path)] == [1, 2, 3, 4]


def test_main_computes_the_post_update_kl(service: ServiceClient, tmp_path: Path) -> None:
    cfg = DistillationDatasetConfig(
        dataset_builder=_builder(_prompts(0, 4), 2, 2, "p"),
        teacher_config=TeacherConfig(base_model=MODEL),
        groups_per_batch=2,
    )
    summary = run(_config(tmp_path, [cfg], max_tokens=8, max_steps=2, compute_post_kl=True), service_client=service)
    rows = read_jsonl(tmp_path / "metrics.jsonl")
    assert summary["steps_run"] == 2 and all(math.isfinite(r["kl_pre_post_v1"]) for r in rows)
    # Token accounting continues across steps (the teacher's scoring counts as prefill).
    assert rows[1]["tokens/cumulative/trained"] == rows[0]["tokens/trained"] + rows[1]["tokens/trained"]
    assert all(r["tokens/prefill_uncached"] > 0 for r in rows)


class _Recorder:
    def __init__(self) -> None:
        self.params: list[AdamParams] = []
        self.model_id = "m"

    def optim_step(self, params: AdamParams) -> str:
        self.params.append(params)
        return "ok"


def test_the_adam_settings_reach_optim_step(tmp_path: Path) -> None:
    config = _config(tmp_path, [], adam_beta1=0.5, adam_beta2=0.75, adam_eps=1e-6)
    inner = _Recorder()
    wrapped = _AdamSettings(inner, config)
    assert wrapped.optim_step(AdamParams(learning_rate=0.25)) == "ok" and wrapped.model_id == "m"
    p = inner.params[0]
    assert (p.learning_rate, p.beta1, p.beta2, p.eps) == (0.25, 0.5, 0.75, 1e-6)
