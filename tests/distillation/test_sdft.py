"""SDFT: teacher prompt with the demonstration, top-K soft targets, reverse-KL gradient, and runs of each mode."""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.completers import StopCondition
from tinkerlite.distillation import sdft
from tinkerlite.rl.types import Action, ActionExtra, Env, EnvGroupBuilder, Observation, StepResult
from tinkerlite.types import Datum, ModelInput, TensorData
from tinkerlite.utils.config import replace as dataclass_replace


def _rl_datum(tokens: list[int], mask: list[float], logprobs: list[float]) -> Datum:
    n = len(tokens) - 1
    return Datum(
        model_input=ModelInput.from_ints(tokens[:-1]),
        loss_fn_inputs={
            "target_tokens": TensorData(data=tokens[1:], dtype="int64", shape=[n]),
            "mask": TensorData(data=mask, dtype="float32", shape=[n]),
            "logprobs": TensorData(data=logprobs, dtype="float32", shape=[n]),
            "advantages": TensorData(data=[0.0] * n, dtype="float32", shape=[n]),
        },
    )


class _Resp:
    def __init__(self, rows: list[Any]) -> None:
        self.topk_prompt_logprobs = rows


class _FakeTeacher:
    """Top-K rows: at teacher position i, tokens (100 + i, 200 + i) with logprobs (-0.5, -1.5)."""

    def __init__(self) -> None:
        self.prompts: list[list[int]] = []

    async def sample_async(self, prompt: ModelInput, num_samples: int, sampling_params: Any, **kw: Any) -> _Resp:
        self.prompts.append(prompt.to_ints())
        assert kw["include_prompt_logprobs"] and kw["topk_prompt_logprobs"] == 2
        return _Resp([None] + [[(100 + i, -0.5), (200 + i, -1.5)] for i in range(1, prompt.length)])

    async def compute_logprobs_async(self, prompt: ModelInput) -> list[float | None]:
        self.prompts.append(prompt.to_ints())
        return [None] + [-0.1 * i for i in range(1, prompt.length)]


def test_topk_targets_align_the_completion_after_the_teacher_prompt() -> None:
    # student: prompt [1, 2], completion [7, 8, 9]; the datum trains positions 1..3 (targets 7, 8, 9)
    d = _rl_datum([1, 2, 7, 8, 9], [0.0, 1.0, 1.0, 1.0], [0.0, -1.0, -1.0, -1.0])
    teacher = _FakeTeacher()
    teacher_prompt = ModelInput.from_ints([50, 51, 52])
    datums, m = asyncio.run(
        sdft.build_topk_distillation_datums(
            [d], [{"group_idx": 0}], teacher, [teacher_prompt], topk=2, skip_first_n_tokens=1
        )
    )
    assert teacher.prompts == [[50, 51, 52, 7, 8, 9]]
    t = datums[0].loss_fn_inputs["target_tokens"]
    w = datums[0].loss_fn_inputs["weights"].tolist()
    assert t.shape == [4, 2]
    # completion offset 0 is skipped; offset 1 (student pos 2) reads teacher position 3 + 1 = 4
    assert w[0] == [0.0, 0.0] and w[1] == [0.0, 0.0]
    assert t.tolist()[2] == [104, 204] and t.tolist()[3] == [105, 205]
    p = 1 / (1 + math.exp(-1.0))
    assert w[2] == pytest.approx([p, 1 - p]) and m["sdft/total_completion_tokens"] == 3.0


def test_importance_sampling_advantages_are_teacher_minus_student() -> None:
    d = _rl_datum([1, 2, 7, 8], [0.0, 1.0, 1.0], [0.0, -1.0, -2.0])
    metrics = asyncio.run(
        sdft.compute_sdft_advantages([d], [{"group_idx": 0}], _FakeTeacher(), [ModelInput.from_ints([50, 51])])
    )
    # teacher lps of the completion [7, 8] sit at positions 2, 3 of [50, 51, 7, 8]: -0.2, -0.3
    assert d.loss_fn_inputs["advantages"].tolist() == pytest.approx([0.0, -0.2 + 1.0, -0.3 + 2.0])
    assert metrics["sdft/mean_advantage"] == pytest.approx((0.8 + 1.7) / 2)


def test_reverse_kl_gradient_matches_finite_differences() -> None:
    rng = random.Random(0)
    k, n = 3, 2
    q = [0.5, 0.3, 0.2, 0.7, 0.3, 0.0]  # second position: only two slots
    d = Datum(
        model_input=ModelInput.from_ints([1, 2]),
        loss_fn_inputs={
            "target_tokens": TensorData(data=[1] * (n * k), dtype="int64", shape=[n, k]),
            "weights": TensorData(data=q, dtype="float32", shape=[n, k]),
        },
    )
    lp = [rng.uniform(-3, -0.1) for _ in range(n * k)]
    loss, metrics, grads = sdft.reverse_kl_custom_loss([d], [lp])
    assert metrics["sdft/reverse_kl_positions"] == 2.0 and loss >= 0

    def true_kl(v: list[float]) -> float:  # the objective whose gradient the surrogate gives
        tot = 0.0
        for s in range(0, n * k, k):
            slots = [s + j for j in range(k) if q[s + j] > 0]
            z = math.log(sum(math.exp(v[i]) for i in slots))
            tot += sum(math.exp(v[i] - z) * (v[i] - z - math.log(q[i])) for i in slots)
        return tot

    assert loss == pytest.approx(true_kl(lp), rel=1e-6)
    eps = 1e-6
    for i in range(n * k):
        up, down = list(lp), list(lp)
        up[i] += eps
        down[i] -= eps
        assert grads[0][i] == pytest.approx((true_kl(up) - true_kl(down)) / (2 * eps), abs=1e-5)
    assert grads[0][5] == 0.0


def test_config_checks() -> None:
    cfg = sdft.Config(model_name="m", recipe_name="r", log_path="x", topk=0, reverse=True, renderer_name="role_colon")
    with pytest.raises(ValueError, match="reverse=True requires topk>0"):
        asyncio.run(sdft.main(cfg, _Provider([])))
    assert "{question}" in sdft.DEFAULT_DEMO_TEMPLATE and "{golden_answer}" in sdft.DEFAULT_DEMO_TEMPLATE


class _Provider:
    def __init__(self, batches: list[tuple[list[Any], list[str], list[str]]]) -> None:
        self.batches = batches

    def get_batch(self, index: int) -> tuple[Sequence[Any], list[str], list[str]]:
        return self.batches[index]

    def __len__(self) -> int:
        return len(self.batches)


class _QuestionEnv(Env):
    def __init__(self, question: str, renderer: Any) -> None:
        self.question, self.renderer = question, renderer

    async def initial_observation(self) -> tuple[Observation, StopCondition]:
        prompt = self.renderer.build_generation_prompt([{"role": "user", "content": self.question}])
        return prompt, self.renderer.get_stop_sequences()

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        return StepResult(reward=0.0, episode_done=True, next_observation=ModelInput.empty(), next_stop_condition=[])


class _QuestionGroup(EnvGroupBuilder):
    def __init__(self, question: str, renderer: Any) -> None:
        self.question, self.renderer = question, renderer

    async def make_envs(self) -> Sequence[Env]:
        return [_QuestionEnv(self.question, self.renderer) for _ in range(2)]


@pytest.mark.parametrize(("topk", "reverse"), [(4, False), (4, True), (0, False)])
def test_each_mode_trains_against_the_local_server(
    tmp_path: Path, topk: int, reverse: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")
    import tinkerlite
    import tinkerlite.local
    from tinkerlite.renderers import get_renderer
    from tinkerlite.tokenizers import get_tokenizer

    model = "tinkerlite/tiny-chat"
    renderer = get_renderer("role_colon", get_tokenizer(model))
    questions = ["What color is snow?", "What color is grass?"]
    builders = [_QuestionGroup(q, renderer) for q in questions]
    provider = _Provider([(builders, questions, ["White.", "Green."])] * 2)
    assert sdft.build_sdft_teacher_prompt("Q?", "A.", renderer).length > 0
    cfg = sdft.Config(
        model_name=model,
        recipe_name="sdft_test",
        log_path=str(tmp_path / "run"),
        renderer_name="role_colon",
        lora_rank=4,
        learning_rate=1e-3,
        max_tokens=6,
        topk=topk,
        reverse=reverse,
        save_every=1,
        loss_fn="importance_sampling",
        eval_every=0,
    )
    monkeypatch.setenv("TINKER_API_KEY", "tml-local")
    with tinkerlite.local.serve(long_poll_s=5.0, api_key="tml-local") as url:
        out = asyncio.run(sdft.main(dataclass_replace(cfg, base_url=url), provider))
    assert len(out["metrics"]) == 2 and out["final_checkpoint"] is not None
    m = out["metrics"][0]
    key = "sdft/mean_advantage" if topk == 0 else "sdft/topk"
    assert key in m and m["sdft/num_datums"] == 4.0
    if reverse:
        assert m["sdft/reverse_kl_positions"] > 0
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1]
