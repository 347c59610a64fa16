"""On-policy distillation against the local server: teacher KL falls, teachers are routed per dataset,
and a resumed run continues from the next batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")

from tests.utils.local_service import service
from tinkerlite.client.service_client import ServiceClient
from tinkerlite.distillation.cli import main as distill_main
from tinkerlite.distillation.datasets import (
    DistillationDatasetConfig,
    PromptOnlyDatasetBuilder,
    TeacherConfig,
)
from tinkerlite.distillation.demo import load_demo_conversations, train_teacher
from tinkerlite.distillation.train_on_policy import Config, run
from tinkerlite.utils.files import read_jsonl

__all__ = ["service"]  # the fixture, imported
MODEL = "tinkerlite/tiny-chat"


@pytest.fixture(scope="module")
def teacher(service: ServiceClient) -> str:
    return train_teacher(service, load_demo_conversations(), steps=25)


def _prompts(start: int, n: int) -> list[str]:
    convs = load_demo_conversations()
    return [str(c[0]["content"]) for c in convs[start : start + n]]


def _builder(prompts: list[str], groups_per_batch: int, group_size: int, name: str) -> PromptOnlyDatasetBuilder:
    return PromptOnlyDatasetBuilder(
        dataset_name=name,
        groups_per_batch=groups_per_batch,
        group_size=group_size,
        model_name_for_tokenizer=MODEL,
        renderer_name="role_colon",
        prompts=prompts,
    )


def _config(log_path: Path, datasets: list[DistillationDatasetConfig], **kw: Any) -> Config:
    defaults: dict[str, Any] = dict(
        learning_rate=3e-3, model_name=MODEL, max_tokens=20, lora_rank=16, save_every=0, show_progress=False
    )
    defaults.update(kw)
    return Config(dataset_configs=datasets, log_path=str(log_path), recipe_name="distill", **defaults)


@pytest.mark.slow
def test_distillation_lowers_teacher_kl_and_routes_teachers(
    service: ServiceClient, teacher: str, tmp_path: Path
) -> None:
    trained = DistillationDatasetConfig(
        dataset_builder=_builder(_prompts(0, 120), 8, 4, "trained"),
        teacher_config=TeacherConfig(base_model=MODEL, load_checkpoint_path=teacher),
        groups_per_batch=8,
    )
    base = DistillationDatasetConfig(  # the student's own base model as teacher: KL starts at ~0
        dataset_builder=_builder(_prompts(120, 60), 2, 2, "base"),
        teacher_config=TeacherConfig(base_model=MODEL),
        groups_per_batch=2,
    )
    summary = run(_config(tmp_path, [trained, base], max_steps=12), service_client=service)
    rows = read_jsonl(tmp_path / "metrics.jsonl")
    assert summary["steps_run"] == 12 and len(rows) == 12
    kl0 = [r["teacher_kl/dataset_0"] for r in rows]
    first, last = sum(kl0[:3]) / 3, sum(kl0[-3:]) / 3
    assert first > 2.0, kl0  # the fine-tuned teacher disagrees with the base student
    assert last <= 0.75 * first, kl0
    assert abs(rows[0]["teacher_kl/dataset_1"]) < 0.05, rows[0]  # student == base teacher before any update
    for key in ("teacher_kl", "optim/kl_sample_train_v1", "env/all/reward/total", "env/trained/total_ac_tokens"):
        assert key in rows[0], key
    assert rows[0]["env/all/reward/total"] == 0.0


@pytest.mark.slow
def test_resume_continues_from_the_next_batch(service: ServiceClient, teacher: str, tmp_path: Path) -> None:
    cfgs = [
        DistillationDatasetConfig(
            dataset_builder=_builder(_prompts(0, 12), 2, 2, "prompts"),
            teacher_config=TeacherConfig(base_model=MODEL, load_checkpoint_path=teacher),
            groups_per_batch=2,
        )
    ]
    first = run(_config(tmp_path, cfgs, max_steps=4, save_every=2, max_tokens=8), service_client=service)
    assert first["steps_run"] == 4
    ck = tmp_path / "checkpoints.jsonl"
    records = [json.loads(x) for x in ck.read_text().splitlines()]
    assert [(r["batch"], r["step"]) for r in records] == [(2, 2), (4, 4)]
    ck.write_text(json.dumps(records[0]) + "\n")  # crash after the step-2 checkpoint
    resumed = run(_config(tmp_path, cfgs, max_steps=4, save_every=2, max_tokens=8), service_client=service)
    assert resumed["steps_run"] == 2
    assert [r["step"] for r in read_jsonl(tmp_path / "metrics.jsonl")] == [0, 1, 2, 3]


def test_cli_reports_bad_prompt_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "p.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n{"messages": 3}\n')
    assert distill_main([f"file_path={bad}", f"log_path={tmp_path / 'run'}"]) == 2
    assert f"{bad}:2: messages: must be a list" in capsys.readouterr().err
    assert distill_main(["kl_penalty=2"]) == 2
    assert "did you mean kl_penalty_coef" in capsys.readouterr().err
