"""The cookbook's ``supervised.train.run_evals`` / ``SubmittedBatch`` and ``nll_evaluator.SamplerNLLEvaluator``,
against the local server: the sampler-side NLL equals the forward-pass NLL on the same weights, and the
loop's test-split metric is the sampler evaluator's."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import warnings
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")

import tinkerlite.renderers
import tinkerlite.types
from tests.utils.local_service import service
from tinkerlite.client.service_client import ServiceClient
from tinkerlite.eval.evaluators import SamplingClientEvaluator, TrainingClientEvaluator
from tinkerlite.exceptions import ConfigurationError
from tinkerlite.supervised.data import FromConversationFileBuilder, conversation_to_datum
from tinkerlite.supervised.nll_evaluator import NLLEvaluator, SamplerNLLEvaluator
from tinkerlite.supervised.train import Config, SubmittedBatch, run, run_evals
from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig
from tinkerlite.utils.files import read_jsonl

from .conftest import conv, write_jsonl

__all__ = ["service"]  # the fixture, imported
MODEL = "tinkerlite/tiny-chat"


@pytest.fixture(scope="module")
def trained(service: ServiceClient) -> Any:
    """A LoRA client moved off its initial weights by a few steps."""
    tc = service.create_lora_training_client(base_model=MODEL, rank=4).result()
    data = _data(tc, 4)
    for _ in range(3):
        tc.forward_backward(data, "cross_entropy").result()
        tc.optim_step(tinkerlite.types.AdamParams(learning_rate=1e-2)).result()
    return tc


def _data(tc: Any, n: int) -> list[Any]:
    renderer = tinkerlite.renderers.get_renderer("role_colon", tc.get_tokenizer())
    convos = [conv(f"What is {i} plus {i}?", f"{i} plus {i} is {2 * i}.")["messages"] for i in range(n)]
    return [conversation_to_datum(c, renderer, max_length=64) for c in convos]


def test_sampler_nll_equals_the_forward_pass_nll(trained: Any) -> None:
    data = _data(trained, 5)
    tok = trained.get_tokenizer()
    sampler = trained.save_weights_and_get_sampling_client().result()
    got = asyncio.run(SamplerNLLEvaluator(data, name="held", tokenizer=tok)(sampler))
    with pytest.warns(DeprecationWarning, match="SamplerNLLEvaluator"):
        want = asyncio.run(NLLEvaluator(data, name="held", tokenizer=tok)(trained))
    assert set(got) == {"held/nll", "held/bpb"} == set(want)
    assert got["held/nll"] > 0 and math.isfinite(got["held/bpb"])
    for key in got:
        assert got[key] == pytest.approx(want[key], rel=1e-4)
    no_tok = asyncio.run(SamplerNLLEvaluator(data)(sampler))
    assert set(no_tok) == {"test/nll"} and no_tok["test/nll"] == pytest.approx(got["held/nll"], rel=1e-12)


class _Batches:
    def __init__(self, data: list[Any]) -> None:
        self.data = data

    def __len__(self) -> int:
        return 2

    def get_batch(self, index: int) -> list[Any]:
        return self.data[index * 2 : index * 2 + 2]


def test_sampler_nll_from_dataset_takes_every_batch(trained: Any) -> None:
    data = _data(trained, 4)
    ev = SamplerNLLEvaluator.from_dataset(_Batches(data), name="x")  # type: ignore[arg-type]
    assert ev.data == data and ev.name == "x" and ev.tokenizer is None


class _Counting:
    """A training client that counts its sampling snapshots."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.snapshots = inner, 0

    def save_weights_and_get_sampling_client(self) -> Any:
        self.snapshots += 1
        return self.inner.save_weights_and_get_sampling_client()


class _Seen(TrainingClientEvaluator):
    async def __call__(self, training_client: Any) -> dict[str, float]:
        return {"seen/training": float(isinstance(training_client, _Counting))}


class _Sampler(SamplingClientEvaluator):
    def __init__(self, key: str) -> None:
        self.key = key
        self.clients: list[Any] = []

    async def __call__(self, sampling_client: Any) -> dict[str, float]:
        self.clients.append(sampling_client)
        return {
            self.key: float(
                len(sampling_client.compute_logprobs(tinkerlite.types.ModelInput.from_ints([1, 2, 3])).result())
            )
        }


def test_run_evals_shares_one_snapshot_and_refuses_other_objects(trained: Any) -> None:
    client = _Counting(trained)
    a, b = _Sampler("a/n"), _Sampler("b/n")
    out = asyncio.run(run_evals([_Seen(), a, b], client, step=3))
    assert out == {"seen/training": 1.0, "a/n": 3.0, "b/n": 3.0}  # no test/ prefix: the evaluators name keys
    assert client.snapshots == 1 and a.clients[0] is b.clients[0]
    assert asyncio.run(run_evals([_Seen()], client, step=0)) == {"seen/training": 1.0} and client.snapshots == 1
    with pytest.raises(ConfigurationError, match="Unknown evaluator type"):
        asyncio.run(run_evals([lambda tc: {}], client, step=0))  # type: ignore[list-item]


def test_submitted_batch_is_the_cookbooks_record() -> None:
    names = [(f.name, f.default) for f in dataclasses.fields(SubmittedBatch)]
    missing = dataclasses.MISSING
    assert names == [
        ("fwd_bwd_future", missing),
        ("optim_step_future", missing),
        ("metrics", missing),
        ("data", missing),
        ("step", missing),
        ("epoch_idx", missing),
        ("batch_idx", missing),
        ("eval_metrics", None),
        ("infrequent_eval_metrics", None),
        ("num_tokens", 0),
    ]


def test_the_loop_reports_the_sampler_nll_of_its_test_split(service: ServiceClient, tmp_path: Path) -> None:
    rows = [conv(f"Name fruit {i}.", f"Fruit {i} is an apple.") for i in range(12)]
    path = write_jsonl(tmp_path / "data.jsonl", rows)
    common = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer=MODEL, renderer_name="role_colon", max_length=64, batch_size=4
    )
    builder = FromConversationFileBuilder(common_config=common, file_path=str(path), test_size=4)
    cfg = Config(
        log_path=str(tmp_path / "run"),
        model_name=MODEL,
        recipe_name="sl",
        dataset_builder=builder,
        learning_rate=1e-2,
        lora_rank=4,
        eval_every=1,
        save_every=0,
        show_progress=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the loop uses the sampler evaluator, not NLLEvaluator
        summary = run(cfg, service_client=service)
    metrics = read_jsonl(tmp_path / "run" / "metrics.jsonl")
    steps = [r for r in metrics if "train_mean_nll" in r]
    assert len(steps) == 2 and all("test/nll" in r and "test/bpb" in r for r in steps)
    # The final evaluation, on the final weights, equals a fresh sampler evaluator's on those weights.
    _, test = builder()
    assert test is not None
    final = summary["training_client"].save_weights_and_get_sampling_client().result()
    want = asyncio.run(SamplerNLLEvaluator.from_dataset(test)(final))
    assert summary["test/nll"] == pytest.approx(want["test/nll"], rel=1e-9)
    assert summary["test/nll"] < steps[0]["test/nll"]
