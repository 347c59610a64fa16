"""``ml_log.NeptuneLogger`` / ``TrackioLogger`` as the cookbook uses them: through fake modules that record
the calls (each API call the cookbook makes), through the real packages in throwaway venvs (neptune-scale
in offline mode, read back from its operations database; trackio read back from its local store), and
a clear error naming the extra when the package is absent."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.errors import MissingExtraError, ValidationError
from tinkerlite.exceptions import ConfigurationError
from tinkerlite.utils import ml_log
from tinkerlite.utils.files import read_jsonl
from tinkerlite.utils.ml_log import NeptuneLogger, TrackioLogger, setup_logging

REPO = Path(__file__).resolve().parents[2]


def _fake_neptune(calls: list[Any]) -> types.ModuleType:
    mod = types.ModuleType("neptune_scale")

    class Run:
        def __init__(self, **kw: Any) -> None:
            calls.append(("Run", kw))

        def log_configs(self, data: Any, flatten: bool = False) -> None:
            calls.append(("log_configs", data, flatten))

        def log_metrics(self, data: dict[str, Any], step: Any) -> None:
            calls.append(("log_metrics", data, step))

        def get_run_url(self) -> str:
            return "https://neptune.example/run"

        def close(self) -> None:
            calls.append(("close",))

    mod.Run = Run  # type: ignore[attr-defined]
    return mod


def _fake_trackio(calls: list[Any]) -> types.ModuleType:
    mod = types.ModuleType("trackio")

    def init(**kw: Any) -> Any:
        calls.append(("init", kw))
        return types.SimpleNamespace(project=kw["project"])

    mod.init = init  # type: ignore[attr-defined]
    mod.log = lambda metrics, step=None: calls.append(("log", metrics, step))  # type: ignore[attr-defined]
    mod.finish = lambda: calls.append(("finish",))  # type: ignore[attr-defined]
    return mod


def test_neptune_logger_makes_the_cookbooks_calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[Any] = []
    monkeypatch.setitem(sys.modules, "neptune_scale", _fake_neptune(calls))
    monkeypatch.setenv("NEPTUNE_API_TOKEN", "token")
    lg = NeptuneLogger(project="ws/p", config={"lr": 0.1, "api_key": "secret"}, log_dir=tmp_path, neptune_name="x")
    lg.log_hparams({"b": 2})
    lg.log_metrics({"loss": 1.0}, step=3)
    lg.log_summary({"final": 2.0})
    with pytest.raises(ValidationError, match="step"):
        lg.log_metrics({"loss": 1.0})
    lg.close()
    lg.close()  # a second close does nothing
    assert calls == [
        ("Run", {"project": "ws/p", "log_directory": str(tmp_path), "experiment_name": "x"}),
        ("log_configs", {"lr": 0.1, "api_key": "<redacted>"}, True),
        ("log_configs", {"b": 2}, True),
        ("log_metrics", {"loss": 1.0}, 3),
        ("log_configs", {"final": 2.0}, False),  # the summary: run attributes, not flattened
        ("close",),
    ]
    assert lg.get_logger_url() is None  # as the cookbook's: no URL through the Logger surface


def test_neptune_needs_its_token_and_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "neptune_scale", _fake_neptune([]))
    monkeypatch.delenv("NEPTUNE_API_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="NEPTUNE_API_TOKEN"):
        NeptuneLogger(project="ws/p")
    monkeypatch.setitem(sys.modules, "neptune_scale", None)
    with pytest.raises(MissingExtraError, match=r"'neptune_scale'.*tinkerlite\[neptune\]"):
        NeptuneLogger(project="ws/p")


def test_trackio_logger_makes_the_cookbooks_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setitem(sys.modules, "trackio", _fake_trackio(calls))
    lg = TrackioLogger(config={"lr": 0.1}, trackio_name="r")
    lg.log_hparams({"ignored": 1})  # trackio takes its config at init only
    lg.log_metrics({"loss": 1.0}, step=2)
    lg.log_metrics({"loss": 0.5})
    lg.close()
    assert calls == [
        ("init", {"project": "default", "name": "r", "config": {"lr": 0.1}}),
        ("log", {"loss": 1.0}, 2),
        ("log", {"loss": 0.5}, None),
        ("finish",),
    ]
    monkeypatch.setitem(sys.modules, "trackio", None)
    with pytest.raises(MissingExtraError, match=r"tinkerlite\[trackio\]"):
        TrackioLogger(project="p")


def test_setup_logging_adds_the_installed_dashboards(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.config.test_cookbook_fields import _fake_wandb

    calls: list[Any] = []
    monkeypatch.setitem(sys.modules, "wandb", _fake_wandb(calls))
    monkeypatch.setitem(sys.modules, "neptune_scale", _fake_neptune(calls))
    monkeypatch.setitem(sys.modules, "trackio", _fake_trackio(calls))
    monkeypatch.setenv("NEPTUNE_API_TOKEN", "token")
    ml = setup_logging(str(tmp_path / "a"), "ws/p", "name", config={"x": 1}, do_configure_logging_module=False)
    kinds = [type(lg).__name__ for lg in ml.loggers]
    assert kinds == ["MetricsLogger", "WandbLogger", "NeptuneLogger", "TrackioLogger"]
    ml.log_metrics({"loss": 1.0}, step=0)
    ml.close()
    assert ("log_metrics", {"loss": 1.0}, 0) in calls and ("log", {"loss": 1.0}, 0) in calls
    assert ("init", {"project": "ws/p", "name": "name", "config": {"x": 1}}) in calls
    assert read_jsonl(tmp_path / "a" / "metrics.jsonl") == [{"step": 0, "loss": 1.0}]

    monkeypatch.delenv("NEPTUNE_API_TOKEN")
    with caplog.at_level(logging.WARNING, logger=ml_log.__name__):
        ml = setup_logging(str(tmp_path / "b"), "ws/p", do_configure_logging_module=False)
    assert [type(lg).__name__ for lg in ml.loggers] == ["MetricsLogger", "WandbLogger", "TrackioLogger"]
    assert "NEPTUNE_API_TOKEN is not set" in caplog.text
    ml.close()

    # Without a project no dashboard is made, installed or not.
    assert [
        type(lg).__name__ for lg in setup_logging(str(tmp_path / "c"), do_configure_logging_module=False).loggers
    ] == ["MetricsLogger"]


def _venv(name: str, requirement: str) -> Path:
    from tests.official_env import ensure_venv

    try:
        return ensure_venv(name, [requirement])
    except (OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot create the venv {name!r} ({requirement}): {exc}")
    raise AssertionError("unreachable")  # pragma: no cover


def _run(py: Path, script: str, env: dict[str, str]) -> Any:
    proc = subprocess.run(
        [str(py), "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # builds a venv with the real package (trackio pulls ~190 MB)
@pytest.mark.network_registry
def test_neptune_logger_with_the_real_package(tmp_path: Path) -> None:
    py = _venv("neptune-scale-0.30.0", "neptune-scale==0.30.0")
    token = base64.b64encode(json.dumps({"api_address": "https://n.example", "api_url": "https://n.example"}).encode())
    script = """
    import glob, json, sqlite3
    from tinkerlite.utils.ml_log import NeptuneLogger
    from neptune_api.proto.neptune_pb.ingest.v1.common_pb2 import UpdateRunSnapshot

    lg = NeptuneLogger(project="ws/proj", config={"lr": 0.1, "nested": {"a": 1}}, log_dir=LOG_DIR, neptune_name="e")
    lg.log_metrics({"loss": 1.5, "acc": 0.25}, step=0)
    lg.log_metrics({"loss": 1.0}, step=1)
    lg.log_summary({"final": 3.0})
    lg.close()
    assigned, appended = {}, []
    for db in glob.glob(LOG_DIR + "/**/run_operations.sqlite3", recursive=True):
        con = sqlite3.connect(db)
        rows = con.execute("select operation from run_operations where operation_type = 0 order by sequence_id")
        for (blob,) in rows:
            op = UpdateRunSnapshot.FromString(blob)
            for k, v in op.assign.items():
                assigned[k] = getattr(v, v.WhichOneof("value"))
            if op.append:
                appended.append([op.step.whole, {k: v.float64 for k, v in op.append.items()}])
    print(json.dumps({"assigned": assigned, "appended": appended}, default=str))
    """.replace("LOG_DIR", repr(str(tmp_path / "neptune")))
    out = _run(py, script, {"NEPTUNE_MODE": "offline", "NEPTUNE_API_TOKEN": token.decode()})
    ours = {k: v for k, v in out["assigned"].items() if not k.startswith(("sys/", "source_code/"))}  # neptune's own
    assert ours == {"lr": 0.1, "nested/a": 1, "final": 3.0}  # the flattened config, then the summary
    assert out["appended"] == [[0, {"loss": 1.5, "acc": 0.25}], [1, {"loss": 1.0}]]


@pytest.mark.slow  # builds a venv with the real package (trackio pulls ~190 MB)
@pytest.mark.network_registry
def test_trackio_logger_with_the_real_package(tmp_path: Path) -> None:
    py = _venv("trackio-0.43.0", "trackio==0.43.0")
    script = """
    import json
    from tinkerlite.utils.ml_log import TrackioLogger
    from trackio.sqlite_storage import SQLiteStorage

    lg = TrackioLogger(project="proj", config={"lr": 0.1}, trackio_name="run1")
    lg.log_metrics({"loss": 1.5, "acc": 0.25}, step=0)
    lg.log_metrics({"loss": 1.0}, step=1)
    lg.close()
    rows = SQLiteStorage.get_logs("proj", "run1")
    logs = [{k: v for k, v in d.items() if k in ("step", "loss", "acc")} for d in rows]
    config = SQLiteStorage.get_run_config("proj", "run1")
    print(json.dumps({"logs": logs, "runs": SQLiteStorage.get_runs("proj"), "lr": config["lr"]}))
    """
    out = _run(py, script, {"TRACKIO_DIR": str(tmp_path / "trackio")})
    assert out == {
        "logs": [{"loss": 1.5, "acc": 0.25, "step": 0}, {"loss": 1.0, "step": 1}],
        "runs": ["run1"],
        "lr": 0.1,
    }


_SCENARIO = textwrap.dedent(
    """
    import json, os, sys, types

    calls = []

    def fake_neptune():
        mod = types.ModuleType("neptune_scale")

        class Run:
            def __init__(self, **kw):
                calls.append(["Run", kw])

            def log_configs(self, data, flatten=False):
                calls.append(["log_configs", data, flatten])

            def log_metrics(self, data, step):
                calls.append(["log_metrics", data, step])

            def get_run_url(self):
                return "https://neptune.example/run"

            def close(self):
                calls.append(["close"])

        mod.Run = Run
        return mod

    def fake_trackio():
        mod = types.ModuleType("trackio")
        mod.init = lambda **kw: calls.append(["init", kw]) or types.SimpleNamespace(project=kw["project"])
        mod.log = lambda metrics, step=None: calls.append(["log", metrics, step])
        mod.finish = lambda: calls.append(["finish"])
        return mod

    sys.modules["neptune_scale"] = fake_neptune()
    sys.modules["trackio"] = fake_trackio()
    os.environ["NEPTUNE_API_TOKEN"] = "token"
    ml_log = __import__(sys.argv[1], fromlist=["ml_log"])
    config = {"lr": 0.1, "nested": {"a": 1}, "names": ["x", "y"]}
    lg = ml_log.NeptuneLogger(project="ws/p", config=config, log_dir="/tmp/x", neptune_name="n")
    lg.log_hparams({"b": 2})
    lg.log_metrics({"loss": 1.0, "acc": 0.5}, step=3)
    lg.log_summary({"final": 2.0})
    lg.close()
    lg = ml_log.TrackioLogger(config=config, log_dir="/tmp/x", trackio_name="r")
    lg.log_hparams({"ignored": 1})
    lg.log_metrics({"loss": 1.0}, step=2)
    lg.log_metrics({"loss": 0.5})
    lg.close()
    lg = ml_log.TrackioLogger(project="proj")
    lg.close()
    print(json.dumps(calls))
    """
)


@pytest.mark.slow  # builds a venv with the real package (trackio pulls ~190 MB)
@pytest.mark.network_registry
def test_the_dashboards_make_the_official_calls(tmp_path: Path) -> None:
    """The same script on the official ``ml_log`` (cookbook 0.6.1, in its venv) and on ours: the same calls
    to ``neptune_scale`` and ``trackio``, with the same arguments, in the same order."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_dpo_goldens", REPO / "tests" / "golden" / "make_dpo_goldens.py")
    assert spec is not None and spec.loader is not None
    goldens = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(goldens)
    try:
        official = goldens.official_python()
    except (OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot build the official cookbook venv: {exc}")

    def calls(py: str, module: str) -> Any:
        proc = subprocess.run(
            [py, "-c", _SCENARIO, module],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    theirs = calls(str(official), "tinker_cookbook.utils.ml_log")
    ours = calls(sys.executable, "tinkerlite.utils.ml_log")
    assert len(theirs) == 12  # 6 Neptune calls, then 4 and 2 Trackio calls
    assert ours == theirs
