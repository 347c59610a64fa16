"""Run logs in the cookbook's formats: ``config.json`` once, ``metrics.jsonl`` one row per step.

The cookbook's logger surface: :class:`Logger` (abstract), the JSON logger (:class:`MetricsLogger`, also
``JsonLogger``), :class:`WandbLogger`, :class:`NeptuneLogger`, :class:`TrackioLogger` and
:class:`MultiplexLogger`, built by :func:`setup_logging`. The dashboards' packages load when used.
wandb is optional: asked for (``wandb_project`` set) and not installed is one clear error naming the
``wandb`` extra (the cookbook prints a warning and skips, which loses the run's dashboard silently).
Plus what the cookbook leaves to rich/wandb: a one-line progress display with no third-party package.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import sys
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Literal, TextIO

from .._optional import require, try_import
from ..errors import ValidationError
from .config import config_fields, is_config
from .files import append_jsonl, atomic_write_json, read_jsonl

__all__ = [
    "JsonLogger",
    "LogdirBehavior",
    "Logger",
    "MetricsLogger",
    "MultiplexLogger",
    "NeptuneLogger",
    "PrettyPrintLogger",
    "ProgressLine",
    "TrackioLogger",
    "WandbLogger",
    "check_log_dir",
    "configure_logging_module",
    "dump_config",
    "setup_logging",
]

logger = logging.getLogger(__name__)
LogdirBehavior = Literal["ask", "resume", "delete", "raise"]


class LogDirExistsError(ValidationError):
    pass


def check_log_dir(log_dir: str | os.PathLike[str], behavior_if_exists: LogdirBehavior | str) -> None:
    """What to do when ``log_dir`` already exists: resume in it, delete it, raise, or ask."""
    p = Path(log_dir)
    if behavior_if_exists not in ("ask", "resume", "delete", "raise"):
        raise ValidationError(
            f"must be one of ask, resume, delete, raise; got {behavior_if_exists!r}", field="behavior_if_log_dir_exists"
        )
    if not p.exists():
        return
    if behavior_if_exists == "resume":
        return
    if behavior_if_exists == "delete":
        logger.info("log dir %s exists; deleting it", p)
        shutil.rmtree(p)
        return
    if behavior_if_exists == "raise":
        raise LogDirExistsError(f"log directory {p} already exists", field="log_path")
    if not sys.stdin.isatty():
        raise LogDirExistsError(
            f"log directory {p} already exists and stdin is not a terminal to ask; "
            "pass behavior_if_log_dir_exists=resume|delete|raise",
            field="log_path",
        )
    while True:
        answer = input(f"Log directory {p} already exists. What do you want to do? [delete, resume, exit]: ").strip()
        if answer == "delete":
            shutil.rmtree(p)
            return
        if answer == "resume":
            return
        if answer == "exit":
            raise SystemExit(0)


_SECRET_NAMES = frozenset({"api_key", "apikey", "api_token", "auth_token", "access_token", "hf_token", "token"})
REDACTED = "<redacted>"


def _is_secret(name: str, value: Any) -> bool:
    """Fields that hold credentials: never written to config.json, W&B or any other log."""
    n = name.lower()
    secret = n in _SECRET_NAMES or n.endswith(("_api_key", "_secret", "_password")) or n in ("secret", "password")
    return secret and isinstance(value, str) and bool(value)


def dump_config(config: Any) -> Any:
    """A JSON-able view of a config (chz class or dataclass; nested configs, paths and enums included).

    Credential fields (``api_key``, ``*_api_key``, ``hf_token``, ...) are written as ``"<redacted>"``.
    """
    if is_config(config):
        out = {
            name: REDACTED if _is_secret(name, value) else dump_config(value)
            for name, value in config_fields(config).items()
        }
        out["__class__"] = f"{type(config).__module__}.{type(config).__qualname__}"
        return out
    if isinstance(config, dict):
        return {str(k): REDACTED if _is_secret(str(k), v) else dump_config(v) for k, v in config.items()}
    if isinstance(config, (list, tuple)):
        return [dump_config(v) for v in config]
    if isinstance(config, (str, int, float, bool)) or config is None:
        return config
    if hasattr(config, "value"):  # enums
        return config.value
    return repr(config)


class Logger(ABC):
    """The cookbook's logger interface: hparams and metrics required, the rest optional no-ops."""

    @abstractmethod
    def log_hparams(self, config: Any) -> None: ...

    @abstractmethod
    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None: ...

    def enable_event_steps(self) -> None:
        """Switch to arrival-order history with explicit coordinates (no-op where unsupported)."""
        return None

    def log_metrics_event(
        self, metrics: dict[str, Any], step: int, step_metric: str, metric_axes: dict[str, str] | None = None
    ) -> None:
        """Metrics about model coordinate ``step`` (possibly an earlier step), recorded under ``step_metric``."""
        self.log_metrics(metrics | {step_metric: step}, step=step)

    def log_summary(self, metrics: dict[str, Any]) -> None:
        """Latest value of running totals, outside the step history (no-op where unsupported)."""
        return None

    def log_long_text(self, key: str, text: str) -> None:
        """Long text such as a transcript (no-op where unsupported)."""
        return None

    def close(self) -> None:
        """Flush and release resources."""
        return None

    def sync(self) -> None:
        """Force buffered data out."""
        return None

    def get_logger_url(self) -> str | None:
        """A link to the run's dashboard, when the backend has one."""
        return None

    @property
    def store(self) -> Any | None:
        """The ``TrainingRunStore`` behind this logger, or ``None`` (only the JSON logger has one)."""
        return None


class PrettyPrintLogger(Logger):
    """The cookbook's console logger: the config, and each step's metrics as a table, through ``logging``.

    Plain text instead of the cookbook's ``rich`` table; ``:total``/``:count`` aggregate keys are hidden here
    (other sinks keep them); floats print with 6 decimals; long config values are cut in the middle.
    """

    _HIDDEN_SUFFIXES = (":total", ":count")

    def __init__(self) -> None:  # the cookbook's signature: no arguments
        super().__init__()

    def log_hparams(self, config: Any) -> None:
        lines = ["Configuration:"]
        for key, value in dict(dump_config(config)).items():
            text = repr(value)
            lines.append(f"  {key}: {text if len(text) <= 256 else text[:128] + ' ... ' + text[-128:]}")
        logger.info("\n" + "\n".join(lines))

    def log_summary(self, metrics: dict[str, Any]) -> None:
        self.log_metrics(metrics)

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        items = [(k, v) for k, v in sorted(metrics.items()) if not k.endswith(self._HIDDEN_SUFFIXES)]
        if not items:
            return
        width = min(max(max(len(k) for k, _ in items), 20), 60)
        rows = [f"{k:<{width}}  {f'{v:.6f}' if isinstance(v, float) else v}" for k, v in items]
        head = [f"Step {step}"] if step is not None else []
        logger.info("\n" + "\n".join([*head, f"{'Metric':<{width}}  Value", *rows]))


class MetricsLogger(Logger):
    """Writes ``config.json`` and appends ``{"step": n, ...}`` rows to ``metrics.jsonl``."""

    def __init__(self, log_dir: str | os.PathLike[str], store: Any | None = None) -> None:
        self.log_dir = Path(log_dir)
        self._store = store
        """A given ``TrainingRunStore`` takes every write (cloud storage); without one the files in
        ``log_dir`` are written directly (torn-line-safe appends, atomic config)."""
        if store is None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        self.metrics_path = self.log_dir / "metrics.jsonl"

    @property
    def store(self) -> Any:
        """The ``TrainingRunStore`` over this run's files: the one given, else one on ``log_dir``."""
        if self._store is None:
            from ..stores.storage import storage_from_uri
            from ..stores.training_store import TrainingRunStore

            return TrainingRunStore(storage_from_uri(str(self.log_dir)))
        return self._store

    def log_hparams(self, config: Any) -> None:
        if self._store is not None:
            self._store.write_config(dump_config(config))
            return
        atomic_write_json(self.log_dir / "config.json", dump_config(config))

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        if self._store is not None:
            self._store.write_metrics(metrics, step)
            return
        row: dict[str, Any] = {"step": step} if step is not None else {}
        row.update(metrics)
        append_jsonl(self.metrics_path, row)

    def truncate_metrics(self, from_step: int) -> int:
        """Drop rows with ``step >= from_step`` (they will be re-run after a resume); keep a backup."""
        if self._store is not None:
            dropped: int = self._store.truncate_metrics(from_step)
            return dropped
        rows = read_jsonl(self.metrics_path)
        keep = [r for r in rows if not (isinstance(r.get("step"), int) and r["step"] >= from_step)]
        dropped = len(rows) - len(keep)
        if dropped:
            shutil.copyfile(self.metrics_path, self.log_dir / f"metrics.jsonl.pre_resume_{from_step}")
            data = "".join(json.dumps(r, default=str) + "\n" for r in keep).encode("utf-8")
            from .files import atomic_write_bytes

            atomic_write_bytes(self.metrics_path, data)
        return dropped


JsonLogger = MetricsLogger
"""The cookbook's name for the ``metrics.jsonl`` logger."""


class WandbLogger(Logger):
    """Streams config and metrics to Weights & Biases (needs the ``wandb`` extra)."""

    def __init__(
        self,
        project: str | None = None,
        config: Any | None = None,
        log_dir: str | Path | None = None,
        wandb_name: str | None = None,
    ) -> None:
        self._wandb = require("wandb", "W&B logging (wandb_project=...)", "wandb")
        self.run = self._wandb.init(
            project=project,
            config=dump_config(config) if config is not None else None,
            dir=str(log_dir) if log_dir else None,
            name=wandb_name,
        )

    def log_hparams(self, config: Any) -> None:
        if self.run is not None:
            self._wandb.config.update(dump_config(config))

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        if self.run is not None:
            self._wandb.log(metrics, step=step)

    def log_summary(self, metrics: dict[str, Any]) -> None:
        if self.run is not None:
            self.run.summary.update(metrics)

    def close(self) -> None:
        if self.run is not None:
            self._wandb.finish()
            self.run = None

    def get_logger_url(self) -> str | None:
        url = getattr(self.run, "url", None)
        return str(url) if url else None


class NeptuneLogger(Logger):
    """Streams config and metrics to Neptune (``neptune-scale``: the ``neptune`` extra), as the cookbook's.

    Needs ``NEPTUNE_API_TOKEN``; ``project`` is ``workspace/project``. Every metrics row needs a ``step``.
    """

    def __init__(
        self,
        project: str | None = None,
        config: Any | None = None,
        log_dir: str | Path | None = None,
        neptune_name: str | None = None,
    ) -> None:
        neptune_scale = require("neptune_scale", "Neptune logging (NeptuneLogger)", "neptune")
        if not os.environ.get("NEPTUNE_API_TOKEN"):
            from ..exceptions import ConfigurationError

            raise ConfigurationError("NEPTUNE_API_TOKEN environment variable not set")
        self.run = neptune_scale.Run(
            project=project, log_directory=str(log_dir) if log_dir else None, experiment_name=neptune_name
        )
        self.run.log_configs(dump_config(config) if config else None, flatten=True)

    def log_hparams(self, config: Any) -> None:
        if self.run is not None:
            self.run.log_configs(dump_config(config) if config else None, flatten=True)

    def log_metrics(self, metrics: dict[str, Any], step: float | int | None = None) -> None:
        if self.run is not None:
            if step is None:
                raise ValidationError("Neptune logs every metrics row at a step; got None", field="step")
            self.run.log_metrics(metrics, step=step)
            logger.info("Logging to: %s", self.run.get_run_url())

    def log_summary(self, metrics: dict[str, Any]) -> None:
        """Run attributes, outside the step series."""
        if self.run is not None:
            self.run.log_configs(metrics)

    def close(self) -> None:
        if self.run is not None:
            self.run.close()
            self.run = None


class TrackioLogger(Logger):
    """Streams config and metrics to Trackio (the ``trackio`` extra), as the cookbook's.

    Trackio takes the config at ``init`` only, so :meth:`log_hparams` adds nothing later; ``log_dir`` is
    accepted for the common logger signature and unused, as there.
    """

    def __init__(
        self,
        project: str | None = None,
        config: Any | None = None,
        log_dir: str | Path | None = None,
        trackio_name: str | None = None,
    ) -> None:
        self._trackio = require("trackio", "Trackio logging (TrackioLogger)", "trackio")
        self.run = self._trackio.init(
            project=project or "default", name=trackio_name, config=dump_config(config) if config else None
        )

    def log_hparams(self, config: Any) -> None:
        """Nothing to do: Trackio received the config at ``init``."""

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        if self.run is not None:
            self._trackio.log(metrics, step=step)
            logger.info("Logged metrics to Trackio project: %s", getattr(self.run, "project", None))

    def close(self) -> None:
        if self.run is not None:
            self._trackio.finish()
            self.run = None


class MultiplexLogger(Logger):
    """Fans every call out to several loggers (JSON always, the dashboards when asked for)."""

    def __init__(self, loggers: list[Logger]) -> None:
        self.loggers = loggers

    def log_hparams(self, config: Any) -> None:
        for lg in self.loggers:
            lg.log_hparams(config)

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        for lg in self.loggers:
            lg.log_metrics(metrics, step=step)

    def enable_event_steps(self) -> None:
        for lg in self.loggers:
            lg.enable_event_steps()

    def log_metrics_event(
        self, metrics: dict[str, Any], step: int, step_metric: str, metric_axes: dict[str, str] | None = None
    ) -> None:
        for lg in self.loggers:
            lg.log_metrics_event(metrics, step, step_metric, metric_axes)

    def log_summary(self, metrics: dict[str, Any]) -> None:
        for lg in self.loggers:
            lg.log_summary(metrics)

    def log_long_text(self, key: str, text: str) -> None:
        for lg in self.loggers:
            lg.log_long_text(key, text)

    def close(self) -> None:
        for lg in self.loggers:
            lg.close()

    @property
    def store(self) -> Any | None:
        """The store of the first JSON-logger child, or ``None``."""
        for lg in self.loggers:
            if isinstance(lg, MetricsLogger):
                return lg.store
        return None

    def sync(self) -> None:
        for lg in self.loggers:
            lg.sync()

    def get_logger_url(self) -> str | None:
        for lg in self.loggers:
            url = lg.get_logger_url()
            if url:
                return url
        return None

    def truncate_metrics(self, from_step: int) -> int:
        """Drop ``metrics.jsonl`` rows that a resume will re-run (the JSON logger's rows)."""
        return sum(lg.truncate_metrics(from_step) for lg in self.loggers if isinstance(lg, MetricsLogger))


def setup_logging(
    log_dir: str,
    wandb_project: str | None = None,
    wandb_name: str | None = None,
    config: Any | None = None,
    do_configure_logging_module: bool = True,
) -> MultiplexLogger:
    """The cookbook's entry point: a JSON logger, plus the dashboards when ``wandb_project`` is set.

    With ``wandb_project``: wandb (required: its absence is an error naming the extra), and, as in the
    cookbook, Neptune under the same project and name when ``neptune-scale`` is installed (skipped with
    a warning without ``NEPTUNE_API_TOKEN``) and Trackio when ``trackio`` is installed. ``config`` (when
    given) is written to ``config.json`` (and the dashboards); with ``do_configure_logging_module`` the
    root logger also writes ``logs.log`` in ``log_dir``.
    """
    loggers: list[Logger] = [MetricsLogger(log_dir)]
    if wandb_project:
        loggers.append(WandbLogger(project=wandb_project, config=config, log_dir=log_dir, wandb_name=wandb_name))
        loggers += _optional_dashboards(wandb_project, wandb_name, config, log_dir)
    ml = MultiplexLogger(loggers)
    if config is not None:
        ml.log_hparams(config)
    if do_configure_logging_module:
        configure_logging_module(str(Path(log_dir) / "logs.log"))
    logger.info("Logging to: %s", log_dir)
    return ml


def _optional_dashboards(project: str, name: str | None, config: Any, log_dir: str) -> list[Logger]:
    """Neptune and Trackio loggers for the packages that are installed (the cookbook adds them silently)."""
    out: list[Logger] = []
    if try_import("neptune_scale") is not None:
        if os.environ.get("NEPTUNE_API_TOKEN"):
            out.append(NeptuneLogger(project=project, config=config, log_dir=log_dir, neptune_name=name))
        else:
            logger.warning("neptune-scale is installed but NEPTUNE_API_TOKEN is not set; skipping Neptune logging")
    if try_import("trackio") is not None:
        out.append(TrackioLogger(project=project, config=config, log_dir=log_dir, trackio_name=name))
        logger.info("Trackio logging enabled for project: %s", project)
    return out


def configure_logging_module(path: str, level: int = logging.INFO) -> logging.Logger:
    """Root logger to stderr and to ``path`` (appended), replacing earlier root handlers."""
    fmt = logging.Formatter("%(name)s:%(lineno)d [%(levelname)s] %(message)s")
    console = logging.StreamHandler()
    console.setFormatter(fmt)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    file_handler.setFormatter(fmt)
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers[:]:
        root.removeHandler(handler)
        handler.close()
    root.addHandler(console)
    root.addHandler(file_handler)
    return root


class ProgressLine:
    """``step 12/100  loss 1.234  1.2k tok/s  ETA 0:01:10`` — one line per step, no dependencies."""

    def __init__(self, total_steps: int, stream: TextIO | None = None) -> None:
        self.total = total_steps
        self.stream = stream or sys.stdout
        self.t0 = time.monotonic()
        self.tokens = 0
        self.done = 0

    def update(self, step: int, loss: float, num_tokens: int, extra: str = "") -> str:
        self.tokens += num_tokens
        self.done += 1
        elapsed = max(time.monotonic() - self.t0, 1e-9)
        rate = self.tokens / elapsed
        remaining = max(self.total - (step + 1), 0)
        eta = elapsed / self.done * remaining
        loss_s = "nan" if math.isnan(loss) else f"{loss:.4f}"
        line = (
            f"step {step + 1}/{self.total}  loss {loss_s}  {_si(rate)} tok/s  "
            f"ETA {int(eta) // 3600}:{int(eta) % 3600 // 60:02d}:{int(eta) % 60:02d}"
        )
        if extra:
            line += f"  {extra}"
        print(line, file=self.stream, flush=True)
        return line


def _si(x: float) -> str:
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.1f}{unit}"
    return f"{x:.0f}"
