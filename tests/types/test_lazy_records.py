"""Records whose dataclass methods are generated on first use behave exactly as eager dataclasses."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import pkgutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import tinkerlite.types as T
from tinkerlite.types._lazy import _PENDING, lazy_dataclass, realise_all

REPO = Path(__file__).resolve().parents[2]


def _pair(**params: Any) -> tuple[type, type]:
    """The same class body decorated eagerly and lazily."""

    def body() -> type:
        class Rec:
            a: int
            b: str = "x"
            c: list[int] = dataclasses.field(default_factory=list)

            def double(self) -> int:
                return self.a * 2

        return Rec

    return dataclasses.dataclass(body(), **params), lazy_dataclass(body(), **params)


@pytest.mark.parametrize("params", [{"frozen": True}, {}, {"kw_only": True}, {"frozen": True, "order": True}])
def test_a_lazy_record_matches_its_eager_twin(params: dict[str, Any]) -> None:
    eager, lazy = _pair(**params)
    assert lazy in _PENDING
    assert str(inspect.signature(lazy)) == str(inspect.signature(eager))  # the first touch builds it
    assert lazy not in _PENDING
    assert lazy.__doc__ == eager.__doc__ and lazy.__match_args__ == eager.__match_args__
    assert [f.name for f in dataclasses.fields(lazy)] == ["a", "b", "c"] and dataclasses.is_dataclass(lazy)
    assert not hasattr(lazy, "c")  # the default_factory field's field() object is gone, as the dataclass does
    kw = {"a": 1, "b": "y"}
    x, y = lazy(**kw), eager(**kw)
    assert repr(x) == repr(y).replace(eager.__qualname__, lazy.__qualname__)
    assert x == lazy(**kw) and x != lazy(a=2) and x.double() == 2
    assert (lazy.__hash__ is None) == (eager.__hash__ is None)
    if params.get("frozen"):
        assert hash(lazy(a=1, c=())) == hash(eager(a=1, c=()))  # the same field tuple hashed
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'a'"):
            x.a = 5  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'b'"):
            del x.b  # type: ignore[misc]
    else:
        x.a = 5  # type: ignore[misc]
        assert x.a == 5
    if params.get("order"):
        assert lazy(a=1) < lazy(a=2)  # type: ignore[operator]
    assert dataclasses.replace(x, b="z").b == "z"


def test_the_first_use_may_be_a_subclass_a_copy_or_another_thread() -> None:
    _, lazy = _pair(frozen=True)

    class Plain(lazy):  # type: ignore[misc, valid-type]
        pass

    assert Plain(a=3).a == 3 and isinstance(Plain(a=3), lazy)
    _, lazy2 = _pair(frozen=True)
    sub = lazy_dataclass(type("Sub", (lazy2,), {"__annotations__": {"d": "int"}, "d": 0}), frozen=True)
    assert [f.name for f in dataclasses.fields(sub)] == ["a", "b", "c", "d"]  # the base is built on the way
    assert sub(a=1, d=4).d == 4 and lazy2 not in _PENDING

    _, lazy3 = _pair(frozen=True)
    obj = object.__new__(lazy3)  # how pickle and copy make instances: no __init__ call
    obj.__dict__.update(a=1, b="x", c=[])
    assert repr(obj) == f"{lazy3.__qualname__}(a=1, b='x', c=[])" and obj == obj

    _, lazy4 = _pair(frozen=True)
    made: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def make(i: int) -> None:
        start.wait()
        try:
            made.append(lazy4(a=i))
        except BaseException as e:  # pragma: no cover - the failure being tested for
            errors.append(e)

    threads = [threading.Thread(target=make, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(m.a for m in made) == list(range(8))


def test_sdk_records_pickle_and_compare_like_dataclasses() -> None:
    c = T.Checkpoint("a", "training", "2020-01-01T00:00:00", "tinker://run/weights/a")
    back = pickle.loads(pickle.dumps(c))
    assert back == c and hash(back) == hash(c) and type(back) is T.Checkpoint
    assert str(inspect.signature(T.Checkpoint)).startswith("(checkpoint_id: 'str', checkpoint_type: 'str'")


def test_every_record_definition_builds() -> None:
    for m in pkgutil.iter_modules(T.__path__):
        importlib.import_module(f"tinkerlite.types.{m.name}")
    importlib.import_module("tinkerlite.completers")
    importlib.import_module("tinkerlite.client.service_client")
    realise_all()
    assert not _PENDING


def test_the_first_import_builds_no_record() -> None:
    code = (
        "from tinkerlite import ServiceClient, types\n"
        "from tinkerlite.types import _lazy, records\n"
        "print(len(_lazy._PENDING), records.Checkpoint in _lazy._PENDING, records.TrainingRun in _lazy._PENDING)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert int(out[0]) >= 60 and out[1:] == ["True", "True"], out


def test_a_class_with_set_name_descriptors_is_built_at_once() -> None:
    import functools

    class Rec:
        a: int

        @functools.cached_property
        def twice(self) -> int:
            return self.a * 2

    built = lazy_dataclass(Rec)
    assert built not in _PENDING and built(a=2).twice == 4


def test_unpickled_before_any_other_use_in_a_fresh_process(tmp_path: Path) -> None:
    c = T.Checkpoint("a", "training", "2020-01-01T00:00:00", "tinker://x/weights/y")
    blob = tmp_path / "records.pkl"
    blob.write_bytes(pickle.dumps([c, T.TrainingRun("r", "m", "o", True, "2020-01-01T00:00:00", last_checkpoint=c)]))
    code = (
        "import pickle, sys, dataclasses\n"
        "from tinkerlite.types import _lazy, records\n"
        "assert records.Checkpoint in _lazy._PENDING\n"
        f"c, r = pickle.loads(open({str(blob)!r}, 'rb').read())\n"
        "assert records.Checkpoint in _lazy._PENDING  # unpickling calls no __init__\n"
        "assert c == r.last_checkpoint and hash(c) == hash(r.last_checkpoint) and repr(c).startswith('Checkpoint(')\n"
        "try:\n    c.public = True\nexcept dataclasses.FrozenInstanceError:\n    print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr
