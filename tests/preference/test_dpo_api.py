"""The cookbook's ``preference.train_dpo`` functions: ``compute_dpo_loss`` (numbers against the official
torch function, under each backend and on torch tensors), ``create_dpo_clients``, ``do_update`` and
``print_example`` against the local server."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.preference.train_dpo import compute_dpo_loss

REPO = Path(__file__).resolve().parents[2]
GOLDENS = json.loads((REPO / "tests" / "golden" / "dpo_goldens.json").read_text())
METRICS = ("dpo_loss", "accuracy", "margin", "chosen_reward", "rejected_reward")


def _weighted(side: dict[str, Any], key: str) -> float:
    return math.fsum(lp * w for lp, w in zip(side[key], side["weights"], strict=True))


@pytest.mark.parametrize("idx", range(len(GOLDENS["cases"])))
def test_compute_dpo_loss_matches_the_official_step(backend: str, idx: int) -> None:
    # The goldens' metrics are what the official do_update's compute_dpo_loss returned on these pairs.
    case, official = GOLDENS["cases"][idx], GOLDENS["official"][idx]
    pairs = case["pairs"]
    args = [
        [_weighted(p["chosen"], "logprobs") for p in pairs],
        [_weighted(p["rejected"], "logprobs") for p in pairs],
        [_weighted(p["chosen"], "ref") for p in pairs],
        [_weighted(p["rejected"], "ref") for p in pairs],
    ]
    loss, metrics = compute_dpo_loss(*args, dpo_beta=case["beta"])
    assert isinstance(loss, float)
    assert math.isclose(loss, official["loss"], rel_tol=2e-5, abs_tol=2e-6)
    assert set(metrics) == set(METRICS)
    for key in METRICS:
        want = official["metrics"][key]
        assert math.isclose(metrics[key], want, rel_tol=2e-5, abs_tol=2e-6 * (abs(want) + 5.0)), key


def test_compute_dpo_loss_closed_form(backend: str) -> None:
    # One pair at z = β(Δc − Δr) = 0.5·(1 − (−1)) = 1: loss = log(1 + e^-1), chosen wins.
    loss, m = compute_dpo_loss([-1.0], [-4.0], [-2.0], [-3.0], dpo_beta=0.5)
    assert math.isclose(loss, math.log1p(math.exp(-1.0)), rel_tol=1e-12)
    assert m == pytest.approx(
        {"dpo_loss": loss, "accuracy": 1.0, "margin": 1.0, "chosen_reward": 0.5, "rejected_reward": -0.5}
    )
    # Saturated pairs stay finite.
    loss, m = compute_dpo_loss([0.0, -900.0], [-900.0, 0.0], [0.0, 0.0], [0.0, 0.0], dpo_beta=1.0)
    assert math.isclose(loss, 450.0, rel_tol=1e-9) and m["accuracy"] == 0.5


def test_compute_dpo_loss_bad_input() -> None:
    with pytest.raises(ValidationError, match="disagree in length"):
        compute_dpo_loss([0.0], [0.0, 1.0], [0.0], [0.0], 0.1)
    with pytest.raises(ValidationError, match="no pairs"):
        compute_dpo_loss([], [], [], [], 0.1)
    with pytest.raises(ValidationError, match="one number per pair"):
        compute_dpo_loss(["x"], [0.0], [0.0], [0.0], 0.1)


_TORCH_SCRIPT = textwrap.dedent(
    """
    import json, random, sys
    import torch
    from tinker_cookbook.preference.train_dpo import compute_dpo_loss as official
    from tinkerlite.backend import available_backends, set_backend
    from tinkerlite.preference.train_dpo import compute_dpo_loss as ours

    rng = random.Random(7)
    out = []
    for n, scale in ((1, 1.0), (4, 3.0), (6, 80.0)):
        vals = [[rng.uniform(-scale, 0.0) for _ in range(n)] for _ in range(4)]
        beta = rng.choice([0.05, 0.1, 1.0])
        res = {}
        for name, fn in (("official", official), ("ours", ours)):
            ts = [[torch.tensor(v, dtype=torch.float32, requires_grad=(k < 2)) for v in side]
                  for k, side in enumerate(vals)]
            loss, metrics = fn(*ts, dpo_beta=beta)
            loss.backward()
            grads = [[float(t.grad) for t in side] for side in ts[:2]]
            res[name] = {"loss": float(loss), "metrics": metrics, "grads": grads}
        for b in available_backends():
            set_backend(b)
            loss, metrics = ours(*vals, dpo_beta=beta)
            res["floats_" + b] = {"loss": loss, "metrics": metrics}
        out.append(res)
    print(json.dumps(out))
    """
)


@pytest.mark.network_registry
def test_compute_dpo_loss_is_the_cookbooks_on_torch_tensors() -> None:
    """The official function and ours, side by side in the official venv: same loss and metrics, and on
    torch tensors the same autograd gradients; the float path (each backend) gives the same numbers."""
    import importlib.util

    # The venv the DPO goldens come from (tinker 0.38, CPU torch, the cookbook 0.6.1): made by that script.
    spec = importlib.util.spec_from_file_location("make_dpo_goldens", REPO / "tests" / "golden" / "make_dpo_goldens.py")
    assert spec is not None and spec.loader is not None
    goldens = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(goldens)
    try:
        py = goldens.official_python()
    except (OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot build the official DPO venv: {exc}")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([str(py), "-c", _TORCH_SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for res in json.loads(proc.stdout):
        want = res["official"]
        for name in [k for k in res if k != "official"]:
            got = res[name]
            assert math.isclose(got["loss"], want["loss"], rel_tol=1e-5, abs_tol=1e-6), name
            for key in METRICS:
                w = want["metrics"][key]
                assert math.isclose(got["metrics"][key], w, rel_tol=1e-5, abs_tol=1e-5 * (abs(w) + 1)), (name, key)
        for a, b in zip(res["ours"]["grads"], want["grads"], strict=True):
            assert a == pytest.approx(b, rel=1e-5, abs=1e-7)


# ---- against the local server ---------------------------------------------------------------------------

pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")

from tests.utils.local_service import service  # noqa: E402
from tinkerlite.checkpoint_utils import CheckpointManager, get_last_checkpoint  # noqa: E402
from tinkerlite.client.service_client import ServiceClient  # noqa: E402
from tinkerlite.preference.synthetic import make_case_preference_set  # noqa: E402
from tinkerlite.preference.train_dpo import Config, create_dpo_clients, do_update, print_example  # noqa: E402
from tinkerlite.tokenizer_utils import get_tokenizer  # noqa: E402
from tinkerlite.types import ModelInput  # noqa: E402
from tinkerlite.utils.files import read_jsonl  # noqa: E402
from tinkerlite.utils.ml_log import JsonLogger  # noqa: E402

from .test_train_dpo import _config as dpo_config  # noqa: E402

__all__ = ["service"]  # the fixture, imported


def _config(log_path: Path, **kw: Any) -> Config:
    train, test = make_case_preference_set(24, seed=3), make_case_preference_set(8, seed=4)
    return dpo_config(log_path, train, test, 4, **{"learning_rate": 5e-3, **kw})


def test_create_dpo_clients_keeps_the_reference_across_resume(service: ServiceClient, tmp_path: Path) -> None:
    config = _config(tmp_path, save_every=1)
    tc, ref = create_dpo_clients(config, service, None, {"renderer_name": "role_colon"})
    recorded = json.loads((tmp_path / "reference.json").read_text())["sampler_path"]
    assert recorded.startswith("tinker://")
    seq = ModelInput.from_ints([3, 4, 5, 6])
    before = ref.compute_logprobs(seq).result()
    dataset, _ = config.dataset_builder()
    mgr = CheckpointManager(training_client=tc, service_client=service, log_path=str(tmp_path), save_every=1)
    do_update(0, 0, len(dataset), 2, config, tc, ref, [], [], dataset, JsonLogger(tmp_path), str(tmp_path), None, mgr)
    do_update(0, 1, len(dataset), 2, config, tc, ref, [], [], dataset, JsonLogger(tmp_path), str(tmp_path), None, mgr)
    resume = get_last_checkpoint(str(tmp_path))
    assert resume is not None and resume.batch == 1
    tc2, ref2 = create_dpo_clients(config, service, resume)
    # The resumed run scores against the initial policy, not the trained weights it resumed.
    assert json.loads((tmp_path / "reference.json").read_text())["sampler_path"] == recorded
    assert ref2.compute_logprobs(seq).result() == before
    trained = tc2.save_weights_and_get_sampling_client().result().compute_logprobs(seq).result()
    assert trained != before


def test_do_update_trains_and_logs_the_cookbooks_row(service: ServiceClient, tmp_path: Path) -> None:
    config = _config(tmp_path, eval_every=0, save_every=2, dpo_beta=0.5)
    tc, ref = create_dpo_clients(config, service)
    dataset, _ = config.dataset_builder()
    n = len(dataset)
    mgr = CheckpointManager(training_client=tc, service_client=service, log_path=str(tmp_path), save_every=2)
    ml = JsonLogger(tmp_path)
    total = 4
    for step in range(total):
        do_update(0, step, n, total, config, tc, ref, [], [], dataset, ml, str(tmp_path), tc.get_tokenizer(), mgr)
    rows = read_jsonl(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in rows] == list(range(total))
    for key in (*METRICS, "epoch", "num_pairs", "num_tokens", "learning_rate", "progress", "time/total", "batch_time"):
        assert all(key in r for r in rows), key
    # Step 0: the policy is the reference, so every log-ratio is 0 and the loss is log 2.
    assert rows[0]["dpo_loss"] == pytest.approx(math.log(2), abs=1e-4)
    assert rows[0]["margin"] == pytest.approx(0.0, abs=1e-4)
    assert rows[-1]["dpo_loss"] < rows[0]["dpo_loss"] and rows[-1]["margin"] > 0
    assert [r["progress"] for r in rows] == [s / total for s in range(total)]
    assert rows[1]["learning_rate"] < rows[0]["learning_rate"]  # the linear schedule
    # maybe_save at step 2 (before that step) records it, and the row names the state path.
    assert rows[2]["state_path"].startswith("tinker://") and "state_path" not in rows[1]
    assert rows[0]["num_pairs"] == len(dataset.get_batch(0)) // 2


class _Batches:
    def __init__(self, data: list[Any]) -> None:
        self.data = data

    def __len__(self) -> int:
        return 1

    def get_batch(self, index: int) -> list[Any]:
        return self.data

    def set_epoch(self, seed: int = 0) -> None:
        pass


def test_do_update_drops_an_unpaired_datum(
    service: ServiceClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = _config(tmp_path, eval_every=0)
    tc, ref = create_dpo_clients(config, service)
    dataset, _ = config.dataset_builder()
    odd = dataset.get_batch(0)[:3]
    with caplog.at_level(logging.WARNING, logger="tinkerlite.preference.train_dpo"):
        do_update(0, 0, 1, 1, config, tc, ref, [], [], _Batches(odd), JsonLogger(tmp_path), str(tmp_path), None)
    assert "odd number of datums (3)" in caplog.text
    assert read_jsonl(tmp_path / "metrics.jsonl")[0]["num_pairs"] == 1
    with pytest.raises(ValidationError, match="at least one"):
        do_update(0, 0, 1, 1, config, tc, ref, [], [], _Batches(odd[:1]), JsonLogger(tmp_path), str(tmp_path), None)


def test_print_example_logs_the_decoded_datum(service: ServiceClient, tmp_path: Path, caplog: Any) -> None:
    config = _config(tmp_path)
    dataset, _ = config.dataset_builder()
    datum = dataset.get_batch(0)[0]
    tokenizer = get_tokenizer("tinkerlite/tiny-chat")
    with caplog.at_level(logging.INFO, logger="tinkerlite.preference.train_dpo"):
        print_example(datum, tokenizer, "Chosen")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Chosen Example:" in text
    decoded = tokenizer.decode(list(datum.model_input.to_ints()))
    plain = text.replace("\033[32m", "").replace("\033[33m", "").replace("\033[31m", "").replace("\033[0m", "")
    assert decoded.strip()[:20] in plain


def test_the_loop_reports_the_cookbooks_test_nll(service: ServiceClient, tmp_path: Path) -> None:
    from tinkerlite.preference.train_dpo import run
    from tinkerlite.supervised.nll_evaluator import SamplerNLLEvaluator

    config = _config(tmp_path, max_steps=2, eval_every=1)
    summary = run(config, service_client=service)
    rows = read_jsonl(tmp_path / "metrics.jsonl")
    steps = [r for r in rows if "dpo_loss" in r]
    assert len(steps) == 2 and [r["progress"] for r in steps] == [0.0, 0.5]  # step / total_steps, as do_update
    for key in ("test/nll", "test/dpo_loss", "test/pref_accuracy"):
        assert all(key in r for r in steps), key
    _, test = config.dataset_builder()
    assert test is not None
    final = summary["training_client"].save_weights_and_get_sampling_client().result()
    want = asyncio.run(SamplerNLLEvaluator.from_dataset(test)(final))
    assert summary["test/nll"] == pytest.approx(want["test/nll"], rel=1e-9)
