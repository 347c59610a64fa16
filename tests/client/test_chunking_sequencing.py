"""§6: chunk planning, submission order, metric reduction, seq ids and turn ordering."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from tinkerlite.client.chunking import (
    combine_outputs,
    estimate_datum_bytes,
    plan_chunks,
    reduce_metrics,
    submission_order,
)
from tinkerlite.client.sequencing import IdCounter, PoisonedError, TurnGate, clone_seq_start, training_seq_id
from tinkerlite.types import (
    Datum,
    EncodedTextChunk,
    ForwardBackwardOutput,
    ImageChunk,
    ModelInput,
    TensorData,
)


def datum(n_tokens: int) -> Datum:
    return Datum(
        model_input=ModelInput.from_ints(list(range(n_tokens))),
        loss_fn_inputs={"target_tokens": list(range(n_tokens)), "weights": [1.0] * n_tokens},
    )


def test_estimate_matches_official_rule() -> None:
    # 10 tokens × 4 + int64 targets 10×8 + float32 weights 10×4
    assert estimate_datum_bytes(datum(10)) == 40 + 80 + 40
    img = Datum(
        model_input=ModelInput(
            [EncodedTextChunk([1, 2]), ImageChunk(data=b"x" * 100, format="png", expected_tokens=4)]
        ),
        loss_fn_inputs={},
    )
    assert estimate_datum_bytes(img) == 8 + 100
    sparse = TensorData(
        data=[5, 6], dtype="int64", shape=[2, 3], sparse_crow_indices=[0, 1, 2], sparse_col_indices=[0, 2]
    )
    d = SimpleNamespace(model_input=ModelInput.from_ints([1]), loss_fn_inputs={"target_tokens": sparse})
    assert estimate_datum_bytes(d) == 4 + 2 * 8 + 8 * 3 + 8 * 2


def test_chunks_by_count() -> None:
    data = [datum(1) for _ in range(2500)]
    chunks = plan_chunks(data, max_len=1024, max_bytes=5_000_000)
    assert [len(c.data) for c in chunks] == [1024, 1024, 452]
    assert [c.start for c in chunks] == [0, 1024, 2048]


def test_chunks_by_bytes() -> None:
    data = [datum(10) for _ in range(7)]  # 160 bytes each
    chunks = plan_chunks(data, max_len=1024, max_bytes=480)
    assert [len(c.data) for c in chunks] == [3, 3, 1]
    assert all(c.estimated_bytes <= 480 for c in chunks)
    # an oversized datum still goes out, alone
    big = plan_chunks([datum(10), datum(1000), datum(10)], max_len=1024, max_bytes=500)
    assert [len(c.data) for c in big] == [1, 1, 1]


def test_empty_and_invalid() -> None:
    assert plan_chunks([], 10, 10) == []
    with pytest.raises(ValueError):
        plan_chunks([datum(1)], 0, 10)


def test_submission_order_first_chunk_last() -> None:
    assert submission_order(4, True) == [1, 2, 3, 0]
    assert submission_order(4, False) == [0, 1, 2, 3]
    assert submission_order(1, True) == [0]


def test_metric_reduction() -> None:
    m = [
        {
            "loss:sum": 1.0,
            "acc:mean": 0.5,
            "lo:min": 3.0,
            "hi:max": 3.0,
            "s:slack": 1.0,
            "h:hash2": 3.0,
            "u:unique": 7.0,
            "x:weird": 1.0,
        },
        {
            "loss:sum": 2.0,
            "acc:mean": 1.0,
            "lo:min": 1.0,
            "hi:max": 5.0,
            "s:slack": 4.0,
            "h:hash2": 4.0,
            "u:unique": 8.0,
            "x:weird": 1.0,
        },
    ]
    out = reduce_metrics(m, weights=[1, 3])
    assert out["loss:sum"] == 3.0
    assert out["acc:mean"] == pytest.approx((0.5 * 1 + 1.0 * 3) / 4)
    assert out["lo:min"] == 1.0 and out["hi:max"] == 5.0
    assert out["s:slack"] == pytest.approx(4.0 - (1.0 + 12.0) / 4)
    assert out["h:hash2"] == 7.0
    assert out["u:unique"] == 7.0 and out["u:unique_1"] == 8.0
    assert "x:weird" not in out  # unknown reduction dropped


def test_metric_missing_in_a_chunk_is_dropped_and_bad_keys_raise() -> None:
    assert reduce_metrics([{"a:sum": 1.0}, {}], [1, 1]) == {}
    with pytest.raises(ValueError, match="name:reduction"):
        reduce_metrics([{"loss": 1.0}], [1])
    with pytest.raises(ValueError):
        combine_outputs([ForwardBackwardOutput("A", [], {"a:b:sum": 1.0})])


def test_combine_outputs_concatenates_in_order() -> None:
    def td(v: float) -> dict[str, TensorData]:
        return {"logprobs": TensorData(data=[v], dtype="float32")}

    r1 = ForwardBackwardOutput("ArrayRecord", [td(1.0), td(2.0)], {"loss:sum": 1.0, "l:mean": 1.0})
    r2 = ForwardBackwardOutput("ArrayRecord", [td(3.0)], {"loss:sum": 2.0, "l:mean": 4.0})
    out = combine_outputs([r1, r2])
    assert [o["logprobs"].data[0] for o in out.loss_fn_outputs] == [1.0, 2.0, 3.0]
    assert out.metrics == {"loss:sum": 3.0, "l:mean": 2.0}
    assert combine_outputs([]).loss_fn_outputs == []


def test_seq_id_rules() -> None:
    c = IdCounter()
    assert list(c.reserve(3)) == [0, 1, 2]
    assert training_seq_id(c.reserve()[0]) == 4  # create_model is seq 0, first request seq 1
    assert clone_seq_start(7) == 7_000_000_000
    assert IdCounter(clone_seq_start(2)).reserve()[0] == 2_000_000_000


def test_turn_gate_orders_submissions() -> None:
    async def main() -> list[str]:
        gate = TurnGate()
        log: list[str] = []

        async def op(i: int, delay: float) -> None:
            await asyncio.sleep(delay)
            async with gate.turn(i):
                log.append(f"start{i}")
                await asyncio.sleep(0.001)
                log.append(f"end{i}")

        await asyncio.gather(op(2, 0), op(0, 0.01), op(1, 0))
        return log

    assert asyncio.run(main()) == ["start0", "end0", "start1", "end1", "start2", "end2"]


def test_turn_gate_range_lets_chunks_go_together() -> None:
    async def main() -> list[str]:
        gate = TurnGate()
        log: list[str] = []

        async def chunk(i: int) -> None:
            async with gate.turn(0, 2):
                log.append(f"in{i}")
                await asyncio.sleep(0.01)

        async def after() -> None:
            async with gate.turn(3):
                log.append("optim")

        await asyncio.gather(after(), chunk(1), chunk(2), chunk(0))
        return log

    log = asyncio.run(main())
    assert log[-1] == "optim" and sorted(log[:3]) == ["in0", "in1", "in2"]


def test_turn_gate_a_failed_submission_fails_that_call_only() -> None:
    # SDK 0.38: a failed submission passes the turn on; only poison() (custom-loss ids that will never
    # be sent) makes later turns raise.
    async def main() -> None:
        gate = TurnGate()
        ran: list[int] = []

        async def fail() -> None:
            async with gate.turn(0):
                raise RuntimeError("submission failed")

        async def later(i: int) -> None:
            async with gate.turn(i):
                ran.append(i)

        results = await asyncio.gather(fail(), later(1), later(2), return_exceptions=True)
        assert isinstance(results[0], RuntimeError) and results[1:] == [None, None] and ran == [1, 2]
        gate.poison(RuntimeError("custom loss failed"))
        with pytest.raises(PoisonedError):
            await later(3)

    asyncio.run(main())
