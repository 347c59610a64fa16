"""HMMT and LongBench end to end on the local server from the bundled rows (tests/eval/data): the runner,
the graders, the per-domain aggregate and the stored trajectories. The tiny model first learns the
answers (a few supervised steps on the benchmarks' own prompts), so the scores are known to be high; the
untrained model's scores show the graders are not lenient."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numpy")

import tinkerlite
import tinkerlite.local
from tinkerlite.eval.benchmarks import REGISTRY, BenchmarkConfig, load_trajectories, run_benchmarks
from tinkerlite.renderers import get_renderer
from tinkerlite.supervised.data import conversation_to_datum
from tinkerlite.types import AdamParams

DATA = Path(__file__).parent / "data"
KEY = "tml-local"
NAMES = ["hmmt_feb_2025", "longbench"]


def _answers(renderer: Any, config: BenchmarkConfig) -> list[list[dict[str, str]]]:
    """Each example's own prompt followed by its correct answer (boxed for HMMT, the letter/phrase for LongBench)."""
    convos = []
    for env in REGISTRY["hmmt_feb_2025"].make_envs(renderer, config):
        msgs = asyncio.run(env.message_env.initial_observation())
        answer = env.message_env.expected.replace("$", "")
        convos.append([*msgs, {"role": "assistant", "content": "\\boxed{" + answer + "}"}])
    for env in REGISTRY["longbench"].make_envs(renderer, config):
        answer = env.expected if env.is_mcq else env.expected.lower()
        convos.append([{"role": "user", "content": env.user_content}, {"role": "assistant", "content": answer}])
    return convos


@pytest.mark.slow
def test_hmmt_and_longbench_on_the_bundled_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINKERLITE_BENCHMARK_DATA", str(DATA))
    config = BenchmarkConfig(max_tokens=40, temperature=0.0, system_prompt="Put your final answer in \\boxed{}.")
    with tinkerlite.local.serve(api_key=KEY) as url:
        service = tinkerlite.ServiceClient(base_url=url, api_key=KEY)
        trainer = service.create_lora_training_client(base_model="tinkerlite/tiny-chat", rank=8).result()
        renderer = get_renderer("role_colon", trainer.get_tokenizer())
        before = asyncio.run(run_benchmarks(NAMES, trainer.save_weights_and_get_sampling_client().result(), renderer,
                                            replace(config, save_dir=str(tmp_path / "b"))))
        data = [conversation_to_datum(c, renderer, max_length=512) for c in _answers(renderer, config)]
        for _ in range(80):
            trainer.forward_backward(data, loss_fn="cross_entropy")
            # 1e-2, not 2e-2: at 2e-2 the loss oscillates (0.95 -> 2.1 -> 0.92 over the last 40 steps on an
            # AMD EPYC), and whether step 80 lands where the model has learned to stop ("\n\nUser:") then
            # depends on the CPU's BLAS rounding; 1e-2 converges (loss 0.013) and scores 1.0 / 0.75.
            trainer.optim_step(AdamParams(learning_rate=1e-2)).result()
        save_dir = str(tmp_path / "a")
        after = asyncio.run(run_benchmarks(NAMES, trainer.save_weights_and_get_sampling_client().result(), renderer,
                                           replace(config, save_dir=save_dir)))
        service.close()

    assert [before[n].num_examples for n in NAMES] == [after[n].num_examples for n in NAMES] == [4, 4]
    assert before["hmmt_feb_2025"].score == 0.0 and before["longbench"].score <= 0.5
    assert after["hmmt_feb_2025"].score >= 0.75, load_trajectories(save_dir, "hmmt_feb_2025")
    assert after["longbench"].score >= 0.75, load_trajectories(save_dir, "longbench")
    lb = after["longbench"].metrics
    assert set(lb) >= {"longbench/accuracy", "longbench/Single-Document QA/accuracy",
                       "longbench/Long-dialogue History Understanding/accuracy"}
    assert lb["longbench/accuracy"] == after["longbench"].score
    trajs = load_trajectories(save_dir, "hmmt_feb_2025")
    graded = [t for t in trajs if t.reward > 0]
    assert len(trajs) == 4 and len(graded) >= 3
    assert {t.logs["expected"] for t in graded} <= {"\\frac{1}{4}", "$\\sqrt{2}$", "10", "9"}
    assert all(t.logs["extracted"] and t.logs["output"].startswith("\\boxed{") for t in graded)
