"""Reverse-KL advantages and teacher_kl metrics: formulas, discounting, masking, per-teacher routing."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.distillation.datasets import (
    CompositeDataset,
    PromptOnlyDataset,
    PromptOnlyDatasetBuilder,
    PromptOnlyEnv,
)
from tinkerlite.distillation.kl import incorporate_teacher_kl, reverse_kl_advantages, teacher_kl_metrics
from tinkerlite.errors import ValidationError
from tinkerlite.renderers import get_renderer
from tinkerlite.tokenizers import get_tokenizer
from tinkerlite.types import Datum, ModelInput, TensorData


def datum(tokens: list[int], sampled: list[float], mask: list[float], adv: list[float] | None = None) -> Datum:
    n = len(tokens) - 1
    assert len(sampled) == len(mask) == n
    return Datum(
        model_input=ModelInput.from_ints(tokens[:-1]),
        loss_fn_inputs={
            "target_tokens": TensorData(tokens[1:], "int64", [n]),
            "logprobs": TensorData(sampled, "float32", [n]),
            "advantages": TensorData(adv or [0.0] * n, "float32", [n]),
            "mask": TensorData(mask, "float32", [n]),
        },
    )


def test_reverse_kl_advantages_match_the_formula(backend: str) -> None:
    d = datum([1, 2, 3, 4, 5], [-0.5, -1.0, -2.0, -0.25], [0.0, 1.0, 1.0, 1.0], [0.0, 0.5, 0.5, 0.5])
    teacher = [-9.0, -2.0, -1.0, -0.25]
    adv, kl_sum, mask_sum = reverse_kl_advantages(d, teacher, 2.0, 0.0)
    rkl = [0.0, 1.0, -1.0, 0.0]  # (q - p)·mask; the prompt position is masked out
    assert adv == pytest.approx([0.0, 0.5 - 2.0 * 1.0, 0.5 + 2.0 * 1.0, 0.5])
    assert kl_sum == pytest.approx(sum(rkl)) and mask_sum == 3.0


def test_discounting_sums_future_kl(backend: str) -> None:
    d = datum([1, 2, 3, 4], [-1.0, -1.0, -1.0], [1.0, 1.0, 1.0])
    adv, _, _ = reverse_kl_advantages(d, [-2.0, -1.0, -3.0], 1.0, 0.5)
    step = [-1.0, 0.0, -2.0]  # −coef·(q − p)
    assert adv == pytest.approx([step[0] + 0.5 * step[1] + 0.25 * step[2], step[1] + 0.5 * step[2], step[2]])


def test_length_mismatch_is_named() -> None:
    d = datum([1, 2, 3], [-1.0, -1.0], [1.0, 1.0])
    with pytest.raises(ValidationError, match="3 teacher logprobs"):
        reverse_kl_advantages(d, [-1.0, -1.0, -1.0], 1.0, 0.0)


def test_teacher_kl_metrics_weight_by_tokens() -> None:
    m = teacher_kl_metrics([(0, 3.0, 3.0), (1, 1.0, 1.0), (0, 0.0, 2.0)])
    assert m["teacher_kl"] == pytest.approx(4.0 / 6.0)
    assert m["teacher_kl/dataset_0"] == pytest.approx(3.0 / 5.0)
    assert m["teacher_kl/dataset_1"] == pytest.approx(1.0)


class FakeTeacher:
    """Answers compute_logprobs with a constant per teacher, and records what it scored."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.seen: list[list[int]] = []

    async def compute_logprobs_async(self, seq: ModelInput) -> list[float | None]:
        toks = seq.to_ints()
        self.seen.append(toks)
        return [None] + [self.value] * (len(toks) - 1)


def test_each_datum_is_scored_by_its_own_teacher(backend: str) -> None:
    d0 = datum([7, 8, 9], [-1.0, -1.0], [0.0, 1.0])
    d1 = datum([5, 6, 7, 8], [-1.0, -1.0, -1.0], [0.0, 1.0, 1.0])
    d2 = datum([1, 2], [-0.5], [1.0])
    t0, t1 = FakeTeacher(-3.0), FakeTeacher(-0.5)
    metrics = asyncio.run(incorporate_teacher_kl([d0, d1, d2], [t0, t1, t0], [0, 1, 0], 1.0, 0.0))
    assert t0.seen == [[7, 8, 9], [1, 2]] and t1.seen == [[5, 6, 7, 8]]
    assert list(d0.loss_fn_inputs["advantages"].dense_flat()) == [0.0, -2.0]  # q − p = −1 − (−3)
    assert list(d1.loss_fn_inputs["advantages"].dense_flat()) == [0.0, 0.5, 0.5]
    assert list(d2.loss_fn_inputs["advantages"].dense_flat()) == [-2.5]
    assert metrics["teacher_kl/dataset_0"] == pytest.approx((2.0 + 2.5) / 2)
    assert metrics["teacher_kl/dataset_1"] == pytest.approx(-0.5)
    assert metrics["teacher_kl"] == pytest.approx((2.0 + 2.5 - 1.0) / 4)


def test_short_teacher_answer_is_an_error() -> None:
    class Short(FakeTeacher):
        async def compute_logprobs_async(self, seq: ModelInput) -> list[float | None]:
            return [None, -1.0]

    with pytest.raises(ValidationError, match="2 logprobs for a 4-token sequence"):
        asyncio.run(incorporate_teacher_kl([datum([1, 2, 3, 4], [-1.0] * 3, [1.0] * 3)], [Short(0)], [0], 1.0, 0.0))


def test_prompt_only_envs_and_composite_batches() -> None:
    renderer = get_renderer("role_colon", get_tokenizer("tinkerlite/tiny-chat"))
    env = PromptOnlyEnv("hi there", renderer)
    ob, stop = asyncio.run(env.initial_observation())
    assert get_tokenizer("tinkerlite/tiny-chat").decode(ob.to_ints()).endswith("User: hi there\n\nAssistant:")
    step = asyncio.run(env.step([1, 2]))
    assert step.reward == 0.0 and step.episode_done and stop == renderer.get_stop_sequences()
    a = PromptOnlyDataset(["p1", "p2", "p3"], 2, 3, renderer, None, dataset_name="a")
    b = PromptOnlyDataset(["q1", "q2", "q3", "q4", "q5"], 1, 2, renderer, None, dataset_name="b")
    comp = CompositeDataset([a, b], [2, 1])
    assert len(a) == 2 and len(comp) == 2
    builders, idx = comp.get_batch(1)
    assert idx == [0, 1]
    assert [bd.prompt for bd in builders] == ["p3", "q2"]  # type: ignore[attr-defined]
    envs: Any = asyncio.run(builders[0].make_envs())
    assert len(envs) == 3 and builders[1].logging_tags() == ["b"]
    with pytest.raises(ValidationError, match=r"prompts\[1\]"):
        PromptOnlyDataset(["ok", "  "], 1, 1, renderer, None)
    builder = PromptOnlyDatasetBuilder(
        dataset_name="xy",
        groups_per_batch=1,
        group_size=4,
        model_name_for_tokenizer="tinkerlite/tiny-chat",
        renderer_name="role_colon",
        prompts=["x", "y"],
    )
    ds, test = asyncio.run(builder())
    assert len(ds) == 2 and test is None


def test_composite_needs_a_dataset() -> None:
    with pytest.raises(ValidationError):
        CompositeDataset([], [])
    assert math.isnan(teacher_kl_metrics([])["teacher_kl"])


GOLDENS = json.loads((Path(__file__).resolve().parents[1] / "golden" / "dpo_goldens.json").read_text())
DISTILL = list(zip(GOLDENS["distill_cases"], GOLDENS["distill_official"], strict=True))


class StoredTeacher:
    def __init__(self, answer: list[float | None]) -> None:
        self.answer = answer

    async def compute_logprobs_async(self, seq: ModelInput) -> list[float | None]:
        assert len(seq.to_ints()) == len(self.answer)
        return self.answer


@pytest.mark.parametrize("idx", range(len(DISTILL)))
def test_matches_official_incorporate_kl_penalty(backend: str, idx: int) -> None:
    """Same teacher_kl metrics and advantages as the cookbook on every action token; on observation tokens
    tinkerlite keeps 0 where the cookbook leaks discounted KL (only when kl_discount_factor > 0)."""
    case, official = DISTILL[idx]
    data = []
    for d in case["datums"]:
        toks, n = d["tokens"], len(d["tokens"]) - 1
        data.append(
            Datum(
                model_input=ModelInput.from_ints(toks[:-1]),
                loss_fn_inputs={
                    "target_tokens": TensorData(toks[1:], "int64", [n]),
                    "logprobs": TensorData(d["logprobs"], "float32", [n]),
                    "mask": TensorData(d["mask"], "float32", [n]),
                    "advantages": TensorData(d["advantages"], "float32", [n]),
                },
            )
        )
    teachers = [StoredTeacher(d["teacher"]) for d in case["datums"]]
    metrics = asyncio.run(
        incorporate_teacher_kl(data, teachers, [d["dataset"] for d in case["datums"]], case["coef"], case["gamma"])
    )
    assert metrics.keys() == official["metrics"].keys()
    for k, v in official["metrics"].items():
        assert metrics[k] == pytest.approx(v, rel=1e-5, abs=1e-6), k
    leaked = 0
    for d, theirs, spec in zip(data, official["advantages"], case["datums"], strict=True):
        ours = list(d.loss_fn_inputs["advantages"].dense_flat())
        for a, b, m, orig in zip(ours, theirs, spec["mask"], spec["advantages"], strict=True):
            if m > 0:
                assert a == pytest.approx(b, rel=1e-5, abs=1e-5)
            else:
                assert a == orig
                leaked += b != orig
    assert (leaked > 0) == (case["gamma"] > 0)  # the documented divergence, and only there
