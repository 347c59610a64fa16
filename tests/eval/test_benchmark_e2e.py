"""A gsm8k evaluation end to end on the local server, from the bundled sample (tests/eval/data, own
gsm8k-style problems in the dataset's row format) through the local-file loader, the runner, the grader and
the stored results. The tiny model first learns to answer the sample (a few supervised steps), so the
score is known to be high, and a fresh model's score shows the grader is not lenient."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

pytest.importorskip("numpy")

import tinkerlite
import tinkerlite.local
from tinkerlite.eval.benchmarks import BenchmarkConfig, load_result, load_trajectories, run_benchmark
from tinkerlite.eval.benchmarks._common import make_example_id
from tinkerlite.renderers import get_renderer
from tinkerlite.supervised.data import conversation_to_datum
from tinkerlite.types import AdamParams

DATA = Path(__file__).parent / "data"
KEY = "tml-local"


def test_gsm8k_benchmark_on_the_bundled_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINKERLITE_BENCHMARK_DATA", str(DATA))
    rows = [json.loads(line) for line in (DATA / "openai__gsm8k__main__test.jsonl").read_text().splitlines()]
    system = "Put your final answer in \\boxed{}."
    with tinkerlite.local.serve(api_key=KEY) as url:
        service = tinkerlite.ServiceClient(base_url=url, api_key=KEY)
        trainer = service.create_lora_training_client(base_model="tinkerlite/tiny-chat", rank=8).result()
        renderer = get_renderer("role_colon", trainer.get_tokenizer())
        config = BenchmarkConfig(save_dir=str(tmp_path / "before"), max_tokens=24, temperature=0.0)
        before = asyncio.run(run_benchmark("gsm8k", trainer.save_weights_and_get_sampling_client().result(),
                                           renderer, config))
        answers = [
            [{"role": "system", "content": system}, {"role": "user", "content": r["question"]},
             {"role": "assistant", "content": "\\boxed{" + r["answer"].split("####")[-1].strip() + "}"}]
            for r in rows
        ]
        data = [conversation_to_datum(c, renderer, max_length=256) for c in answers]
        for _ in range(60):
            trainer.forward_backward(data, loss_fn="cross_entropy")
            trainer.optim_step(AdamParams(learning_rate=2e-2)).result()
        sampler = trainer.save_weights_and_get_sampling_client().result()
        save_dir = str(tmp_path / "after")
        after = asyncio.run(run_benchmark("gsm8k", sampler, renderer, BenchmarkConfig(
            save_dir=save_dir, max_tokens=24, temperature=0.0)))
        service.close()

    assert before.num_examples == after.num_examples == len(rows)
    assert before.score <= 1 / len(rows)  # a random model does not get these right
    assert after.score >= 5 / 6, after
    stored = load_result(save_dir, "gsm8k")
    assert stored is not None and stored.score == after.score
    trajs = load_trajectories(save_dir, "gsm8k")
    assert len(trajs) == len(rows)
    logs = [t.logs for t in trajs]
    assert {entry["expected"] for entry in logs} == {r["answer"].split("####")[-1].strip() for r in rows}
    assert {t.example_id for t in trajs} == {make_example_id("gsm8k", r["question"]) for r in rows}
