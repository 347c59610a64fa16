"""The cookbook's CheckpointManager: periodic (steps/tokens/seconds), rolling (state only, previous one
deleted, short TTL), final (no TTL, after pending saves), sync and async, records in checkpoints.jsonl."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tinkerlite.checkpoint_utils import CheckpointManager, load_checkpoints_file


class _Done:
    """A completed future: ``.result()`` and ``await`` both give the value."""

    def __init__(self, value: Any = None, error: Exception | None = None) -> None:
        self.value, self.error = value, error

    def result(self, timeout: float | None = None) -> Any:
        if self.error is not None:
            raise self.error
        return self.value

    def __await__(self) -> Generator[Any, None, Any]:
        async def get() -> Any:
            return self.result()

        return get().__await__()


class FakeTraining:
    def __init__(self, fail_state: set[str] | None = None) -> None:
        self.saves: list[tuple[str, str, int | None]] = []
        self.fail_state = fail_state or set()

    def save_state(self, name: str, ttl_seconds: int | None = None) -> _Done:
        self.saves.append(("state", name, ttl_seconds))
        if name in self.fail_state:
            return _Done(error=RuntimeError("server refused"))
        return _Done(SimpleNamespace(path=f"tinker://run/weights/{name}"))

    def save_weights_for_sampler(self, name: str, ttl_seconds: int | None = None) -> _Done:
        self.saves.append(("sampler", name, ttl_seconds))
        return _Done(SimpleNamespace(path=f"tinker://run/sampler_weights/{name}"))


class FakeService:
    def __init__(self) -> None:
        self.deleted: list[str] = []

    def create_rest_client(self) -> Any:
        def delete(path: str) -> _Done:
            self.deleted.append(path)
            return _Done(None)

        return SimpleNamespace(delete_checkpoint_from_tinker_path=delete)


def _records(log: Path) -> list[tuple[str, bool, bool]]:
    return [(r.name, r.sampler_path is not None, bool(r.get("rolling", False))) for r in load_checkpoints_file(log)]


EXPECTED_RECORDS = [
    ("000001", False, True),
    ("000002", True, False),
    ("000003", False, True),
    ("000004", True, False),
    ("000005", False, True),
    ("final", True, False),
]


def test_sync_periodic_rolling_final(tmp_path: Path) -> None:
    tc, sc = FakeTraining(), FakeService()
    mgr = CheckpointManager(tc, sc, str(tmp_path), save_every=2, rolling_save_every=1)
    returned = [mgr.maybe_save(step, {"batch": step}) for step in range(1, 6)]
    assert [r is not None for r in returned] == [False, True, False, True, False]
    assert returned[1] == {
        "state_path": "tinker://run/weights/000002",
        "sampler_path": "tinker://run/sampler_weights/000002",
    }
    # each rolling save deletes the previous rolling one; periodic saves are never deleted
    assert sc.deleted == ["tinker://run/weights/000001", "tinker://run/weights/000003"]
    final = mgr.save_final({"batch": 5, "final": True})
    assert final["sampler_path"].endswith("/final")
    assert sc.deleted == ["tinker://run/weights/000001", "tinker://run/weights/000003", "tinker://run/weights/000005"]
    assert _records(tmp_path) == EXPECTED_RECORDS
    ttls = {(kind, name): ttl for kind, name, ttl in tc.saves}
    assert ttls[("state", "000001")] == 7200 and ("sampler", "000001") not in ttls  # rolling: state only
    assert ttls[("state", "000002")] == ttls[("sampler", "000002")] == 604800
    assert ttls[("state", "final")] is None and ttls[("sampler", "final")] is None
    assert load_checkpoints_file(tmp_path)[1].batch == 2


@pytest.mark.parametrize("background", [False, True])
def test_async_saves_record_in_order(tmp_path: Path, background: bool) -> None:
    tc, sc = FakeTraining(), FakeService()
    mgr = CheckpointManager(
        tc, sc, str(tmp_path), save_every=2, rolling_save_every=1, async_periodic_saves=background
    )

    async def loop() -> list[dict[str, str] | None]:
        out = [await mgr.maybe_save_async(step, {"batch": step}) for step in range(1, 6)]
        await mgr.save_final_async({"batch": 5})
        return out

    returned = asyncio.run(loop())
    # with background periodic saves the paths are not known when maybe_save_async returns
    assert [r is not None for r in returned] == ([False] * 5 if background else [False, True, False, True, False])
    # a background rolling save is recorded when the next call resolves it (after that call's periodic save);
    # every pending save is recorded before the final one
    records = _records(tmp_path)
    assert sorted(records[:-1]) == EXPECTED_RECORDS[:-1] and records[-1] == EXPECTED_RECORDS[-1]
    assert sc.deleted == ["tinker://run/weights/000001", "tinker://run/weights/000003", "tinker://run/weights/000005"]


def test_token_and_time_triggers(tmp_path: Path) -> None:
    mgr = CheckpointManager(FakeTraining(), FakeService(), str(tmp_path), save_every_tokens=100)
    assert not mgr.should_save_periodic(0, elapsed_tokens=1000)  # never before the first step
    assert not mgr.should_save_periodic(1, elapsed_tokens=99)
    assert mgr.maybe_save(1, {"batch": 1}, elapsed_tokens=120) is not None
    assert not mgr.should_save_periodic(2, elapsed_tokens=219)  # counted from the last save
    assert mgr.should_save_periodic(2, elapsed_tokens=220)
    mgr.restore_last_saved_tokens(500)
    assert not mgr.should_save_periodic(3, elapsed_tokens=550)
    timed = CheckpointManager(FakeTraining(), FakeService(), str(tmp_path / "t"), save_every_seconds=0.05)
    assert not timed.should_save_periodic(1)
    time.sleep(0.06)
    assert timed.should_save_periodic(1)
    nothing = CheckpointManager(FakeTraining(), FakeService(), str(tmp_path / "n"))
    assert not any(nothing.should_save_periodic(s, elapsed_tokens=10**9) for s in range(1, 50))


def test_failed_rolling_save_is_logged_and_training_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tc, sc = FakeTraining(fail_state={"000002"}), FakeService()
    mgr = CheckpointManager(tc, sc, str(tmp_path), rolling_save_every=1)
    for step in (1, 2, 3):
        assert mgr.maybe_save(step, {"batch": step}) is None
    assert "Rolling checkpoint save failed" in caplog.text
    assert [r.name for r in load_checkpoints_file(tmp_path)] == ["000001", "000003"]
    assert sc.deleted == ["tinker://run/weights/000001"]  # the failed save left the previous one to delete
    mgr.finalize()
    assert sc.deleted[-1] == "tinker://run/weights/000003"


def test_the_store_takes_the_records(tmp_path: Path) -> None:
    written: list[dict[str, Any]] = []
    store = SimpleNamespace(write_checkpoint=written.append)
    mgr = CheckpointManager(FakeTraining(), FakeService(), str(tmp_path), save_every=1, store=store)
    mgr.maybe_save(1, {"batch": 1})
    assert [r["name"] for r in written] == ["000001"] and not (tmp_path / "checkpoints.jsonl").exists()
