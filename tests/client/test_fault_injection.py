"""A 50-step forward_backward + optim_step loop through a fault-injecting proxy gives the same
results as without faults, and the server applies every seq id exactly once."""

from __future__ import annotations

from typing import Any

import pytest

from tinkerlite import types
from tinkerlite.client import ServiceClient

from .fault_proxy import FaultProxy
from .helpers import FakeClock
from .recording_server import API_KEY, RecordingServer

STEPS = 50


def run_loop(url: str, clock: FakeClock) -> tuple[list[Any], str, RecordingServer | None]:
    sc = ServiceClient(
        base_url=url, api_key=API_KEY, _holder_options={"clock": clock, "sleep": clock.sleep, "heartbeat_period_s": 0}
    )
    tc = sc.create_lora_training_client("Base/Model").result(timeout=60)
    results = []
    for step in range(STEPS):
        data = [
            types.Datum(
                model_input=types.ModelInput.from_ints([step, step + i, 3]),
                loss_fn_inputs={"target_tokens": [step + i, 3, step], "weights": [1.0, 0.5, 0.25]},
            )
            for i in range(3)
        ]
        fb = tc.forward_backward(data, "cross_entropy")
        opt = tc.optim_step(types.AdamParams(learning_rate=1e-4 * (step + 1)))
        out = fb.result(timeout=60)
        results.append(([o["logprobs"].data for o in out.loss_fn_outputs], out.metrics, opt.result(timeout=60).metrics))
    model_id = tc.model_id
    sc.close().result(timeout=60)
    return results, model_id, None


@pytest.mark.slow
def test_fifty_steps_through_faults_match_clean_run() -> None:
    with RecordingServer(client_config={"fwdbwd_max_chunk_len": 2}) as clean:
        expected, mid, _ = run_loop(clean.url, FakeClock())
        assert clean.applied[mid] == list(range(1, 2 * STEPS + STEPS + 1))
    with (
        RecordingServer(client_config={"fwdbwd_max_chunk_len": 2}) as srv,
        FaultProxy(srv.url, seed=1234, rate=0.3, only_after="/create_session") as proxy,
    ):
        got, mid, _ = run_loop(proxy.url, FakeClock())
        # 2 chunks + 1 optim per step: seq ids 1..150, each applied once and in order
        assert srv.applied[mid] == list(range(1, 3 * STEPS + 1))
        assert got == expected
        assert sum(proxy.injected.values()) > 50
        assert {"500", "502", "503", "429", "408", "reset", "delay"} <= set(proxy.injected)
        resubmitted = len(srv.calls("/api/v1/forward_backward")) + len(srv.calls("/api/v1/optim_step")) - 3 * STEPS
        assert resubmitted > 0  # some submissions really were applied and then resent after a reset
