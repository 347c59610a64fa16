"""Each checkpoint record names exactly the steps its weights contain, however deep the pipeline.

The reference is a hand-written, unpipelined loop that saves after every optimizer step; the recorded
checkpoint for step k of the pipelined loop must hold the reference's weights after k steps, and its
``(epoch, batch)`` must be the (k+1)-th batch. The cookbook records the batch being *finished* while its
pipelined successors are already in the saved weights; this test fails on that behaviour (consecutive
reference checkpoints are asserted to differ, so an off-by-one cannot go unnoticed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tinkerlite.client.service_client import ServiceClient
from tinkerlite.supervised.train import run
from tinkerlite.types import AdamParams
from tinkerlite.utils.lr_scheduling import compute_schedule_lr_multiplier

from .fault_proxy_import import FaultProxy
from .helpers import API_KEY, MODEL, checkpoint_arrays, read_jsonl, small_config

EPOCHS, N_BATCHES = 2, 8
TOTAL = EPOCHS * N_BATCHES


def _reference(url: str, data: Path, tmp_path: Path) -> list[str]:
    """Unpipelined: step, wait, save, repeat. Returns the state path after 0..TOTAL steps (index = steps)."""
    cfg = small_config(tmp_path / "unused", data, url, num_epochs=EPOCHS)
    train, _ = cfg.dataset_builder()
    assert len(train) == N_BATCHES
    sc = ServiceClient(base_url=url, api_key=API_KEY)
    try:
        tc = sc.create_lora_training_client(base_model=MODEL, rank=cfg.lora_rank).result()
        paths = [tc.save_state("ref000").result().path]
        for step in range(TOTAL):
            epoch, batch = divmod(step, N_BATCHES)
            if batch == 0:
                train.set_epoch(seed=epoch)
            lr = 3e-3 * compute_schedule_lr_multiplier("linear", step, TOTAL)
            tc.forward_backward(train.get_batch(batch), loss_fn="cross_entropy").result()
            tc.optim_step(AdamParams(learning_rate=lr, beta1=0.9, beta2=0.95, eps=1e-8)).result()
            paths.append(tc.save_state(f"ref{step + 1:03d}").result().path)
        return paths
    finally:
        sc.close()


@pytest.mark.parametrize("submit_ahead", [0, 3])
def test_records_match_an_unpipelined_reference(
    submit_ahead: int, server: tuple[str, Path], data: Path, tmp_path: Path
) -> None:
    url, state_dir = server
    ref = [checkpoint_arrays(state_dir, p) for p in _reference(url, data, tmp_path)]
    for k in range(TOTAL):
        assert ref[k] != ref[k + 1], f"steps {k} and {k + 1} give the same weights: the test would be blind"

    log = tmp_path / "log"
    run(small_config(log, data, url, num_epochs=EPOCHS, save_every=1, submit_ahead=submit_ahead))
    records = read_jsonl(log / "checkpoints.jsonl")
    assert [r["step"] for r in records] == list(range(1, TOTAL + 1))
    for r in records:
        k = r["step"]
        expect = (EPOCHS, 0) if r.get("final") else divmod(k, N_BATCHES)
        assert (r["epoch"], r["batch"]) == expect, r
        assert checkpoint_arrays(state_dir, r["state_path"]) == ref[k], f"record {r['name']} is not step {k}"


@pytest.mark.slow
def test_fault_injecting_proxy_gives_bit_identical_weights(
    server: tuple[str, Path], data: Path, tmp_path: Path
) -> None:
    """Errors, 429s, 408s, delays and mid-body resets between client and server change nothing."""
    url, state_dir = server
    clean = run(small_config(tmp_path / "clean", data, url, num_epochs=EPOCHS, save_every=4, eval_every=4))
    with FaultProxy(url, seed=7, rate=0.3) as proxy:
        faulty = run(small_config(tmp_path / "faulty", data, proxy.url, num_epochs=EPOCHS, save_every=4, eval_every=4))
        injected = dict(proxy.injected)
    print("injected:", injected)
    assert sum(injected.values()) >= 10 and "reset" in injected, injected
    assert checkpoint_arrays(state_dir, faulty["state_path"]) == checkpoint_arrays(state_dir, clean["state_path"])
    assert faulty["test/nll"] == clean["test/nll"]
    nll = [[r["train_mean_nll"] for r in read_jsonl(tmp_path / d / "metrics.jsonl") if "train_mean_nll" in r]
           for d in ("clean", "faulty")]  # fmt: skip
    assert nll[0] == nll[1]
