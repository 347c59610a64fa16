"""The local server never holds a run forever on a seq_id: one it refused counts as consumed, and one
it never saw (refused before its id could be read) fails the requests queued behind it, naming it,
after ``seq_hole_wait_s``; later requests then run."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from tinkerlite import types
from tinkerlite._exceptions import APIStatusError, RequestFailedError
from tinkerlite.client import ServiceClient
from tinkerlite.local import serve
from tinkerlite.local.limits import ServerLimits


def datum(n: int, rng: random.Random) -> Any:
    toks = [rng.randrange(1, 200) for _ in range(n)]
    return types.Datum(
        model_input=types.ModelInput.from_ints(toks),
        loss_fn_inputs={
            "target_tokens": types.TensorData(data=[*toks[1:], 1], dtype="int64", shape=[n]),
            "weights": types.TensorData(data=[1.0] * n, dtype="float32", shape=[n]),
        },
    )


def test_a_seq_id_the_server_never_saw_is_reported_after_a_bounded_wait() -> None:
    rng = random.Random(0)
    limits = ServerLimits(max_body_bytes=4096, seq_hole_wait_s=1.0)
    with serve(api_key="tml-local", limits=limits) as url:
        sc = ServiceClient(base_url=url, api_key="tml-local", _holder_options={"holder_budget_s": 10.0})
        tc = sc.create_lora_training_client(base_model="tinkerlite/tiny-chat", rank=4).result(timeout=60)
        tc.forward_backward([datum(8, rng)], "cross_entropy").result(timeout=60)  # seq_id 1
        too_big = tc.forward_backward([datum(2000, rng)], "cross_entropy")  # seq_id 2: 413, never read
        behind = tc.forward_backward([datum(8, rng)], "cross_entropy")  # seq_id 3: waits for 2
        with pytest.raises(APIStatusError) as big:
            too_big.result(timeout=60)
        assert big.value.status_code == 413
        t0 = time.monotonic()
        with pytest.raises(RequestFailedError, match="seq_id 2 never arrived") as held:
            behind.result(timeout=60)
        waited = time.monotonic() - t0
        assert waited <= 1.0 + 2.0, waited  # seq_hole_wait_s plus the 0.25 s maintenance sweep and noise
        assert "seq_id 3" in str(held.value)
        # the lane moved on: the run continues, as it does in the SDK after a failed call
        out = tc.forward_backward([datum(8, rng)], "cross_entropy").result(timeout=60)
        assert out.metrics["loss:sum"] > 0
        tc.optim_step(types.AdamParams(learning_rate=1e-3)).result(timeout=60)
        sc.close()


def test_a_refused_seq_id_counts_as_consumed() -> None:
    rng = random.Random(1)
    with serve(api_key="tml-local") as url:
        sc = ServiceClient(base_url=url, api_key="tml-local")
        tc = sc.create_lora_training_client(base_model="tinkerlite/tiny-chat", rank=4).result(timeout=60)
        wrong = types.Datum(
            model_input=types.ModelInput.from_ints([1, 2, 3]),
            loss_fn_inputs={"target_tokens": types.TensorData(data=[10**9, 2, 3], dtype="int64", shape=[3])},
        )
        bad = tc.forward_backward([wrong], "cross_entropy")  # refused: its slot is taken, as failed
        good = tc.forward_backward([datum(8, rng)], "cross_entropy")
        with pytest.raises(RequestFailedError):
            bad.result(timeout=60)
        t0 = time.monotonic()
        assert good.result(timeout=60).metrics["loss:sum"] > 0
        assert time.monotonic() - t0 < 30  # nothing waited on the refused id
        sc.close()
