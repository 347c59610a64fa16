"""``key=value`` command lines in the cookbook's style, with typed parsing and a generated ``--help``."""

from __future__ import annotations

import difflib
import logging
import os
import re
import shlex
import time
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ValidationError
from .utils.ml_log import LogdirBehavior, check_log_dir

__all__ = [
    "DEFAULT_RUNS_DIR",
    "ENDPOINT_OPTIONS",
    "RUNS_DIR_ENV_VAR",
    "LogdirBehavior",
    "Option",
    "check_log_dir",
    "format_help",
    "model_name_from_argv",
    "parse_key_values",
    "prepare_log_dir",
    "recommended_renderer",
    "run_cli",
    "runs_path",
]

RUNS_DIR_ENV_VAR = "TINKER_COOKBOOK_RUNS_DIR"
DEFAULT_RUNS_DIR = "~/tinker-runs"


def runs_path(*parts: str) -> str:
    """A path under the runs directory (``$TINKER_COOKBOOK_RUNS_DIR``, else ``~/tinker-runs``), as the
    cookbook's recipes use for default log, checkpoint and data locations."""
    runs_dir = os.environ.get(RUNS_DIR_ENV_VAR) or DEFAULT_RUNS_DIR
    return str(Path(runs_dir).expanduser().joinpath(*parts))


def model_name_from_argv(argv: list[str], default: str) -> str:
    """The ``model_name=...`` override in ``argv`` (the last one wins, as in chz), else ``default``.

    Recipes derive the renderer and tokenizer from the model name before building the rest of the
    config, so they read this override first.
    """
    model_name = default
    for arg in argv:
        if arg.startswith("model_name="):
            model_name = arg.removeprefix("model_name=")
    return model_name


@dataclass(frozen=True)
class Option:
    name: str
    type: Any
    default: Any
    help: str = ""


def _convert(opt: Option, raw: str) -> Any:
    t = opt.type
    origin = typing.get_origin(t)
    args = typing.get_args(t)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        if raw.lower() in ("none", "null", ""):
            return None
        t = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is typing.Literal:
        if raw not in args:
            raise ValidationError(f"must be one of {', '.join(map(str, args))}; got {raw!r}", field=opt.name)
        return raw
    if t is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValidationError(f"must be true or false; got {raw!r}", field=opt.name)
    if t in (int, float):
        try:
            return t(raw)
        except ValueError:
            raise ValidationError(
                f"must be {'an integer' if t is int else 'a number'}; got {raw!r}", field=opt.name
            ) from None
    return raw


def parse_key_values(argv: Sequence[str], options: Sequence[Option]) -> dict[str, Any]:
    """Parse ``key=value`` words. Dotted cookbook names (``dataset_builder.common_config.batch_size``)
    resolve by their last component; unknown keys get a did-you-mean error."""
    by_name = {o.name: o for o in options}
    values = {o.name: o.default for o in options}
    for word in argv:
        if "=" not in word:
            raise ValidationError(f"expected key=value, got {word!r} (see --help)")
        key, raw = word.split("=", 1)
        key = key.strip().lstrip("-").replace("-", "_")
        name = key if key in by_name else key.rsplit(".", 1)[-1]
        if name not in by_name:
            close = difflib.get_close_matches(name, list(by_name), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else "; --help lists the options"
            raise ValidationError(f"unknown option {key!r}{hint}")
        values[name] = _convert(by_name[name], raw)
    return values


def format_help(prog: str, summary: str, options: Sequence[Option]) -> str:
    width = max(len(o.name) for o in options) + 2
    lines = [
        f"usage: {prog} [key=value ...]",
        "",
        _docstring_summary(summary),
        "",
        "options (key=value; defaults shown):",
    ]
    for o in options:
        lines.append(f"  {o.name:<{width}} {o.default!r:<24} {o.help}")
    return "\n".join(lines)


#: Options every training command shares: where to send requests and what to do with an old log dir.
ENDPOINT_OPTIONS: tuple[Option, ...] = (
    Option(
        "base_url", str | None, None, "Tinker service URL (default: $TINKER_BASE_URL, else an embedded local server)"
    ),
    Option("api_key", str | None, None, "Tinker API key for base_url (default: $TINKER_API_KEY)"),
    Option("behavior_if_log_dir_exists", str, "ask", "resume | delete | raise | ask"),
)


def run_cli(
    prog: str, doc: str, options: Sequence[Option], argv: Sequence[str], run: Callable[[dict[str, Any]], int]
) -> int:
    """``--help``, ``key=value`` parsing, and one clean ``prog: message`` line for every user mistake.

    Exit codes: 2 for bad input (see :mod:`tinkerlite.cli_errors`), 130 for Ctrl-C with a line naming
    the command that resumes the run.
    """
    from .cli_errors import report_errors

    args = list(argv)
    if any(a in ("-h", "--help", "help") for a in args):
        print(format_help(prog, doc, options))
        return 0
    values: dict[str, Any] = {}

    def body() -> int:
        values.update(parse_key_values(args, options))
        return run(values)

    def resume_hint() -> str:
        log_path = values.get("log_path")
        if not log_path:
            return "nothing was written yet"
        kept = [
            a for a in args if a.split("=", 1)[0].rsplit(".", 1)[-1] not in ("log_path", "behavior_if_log_dir_exists")
        ]
        words = [*prog.split()[1:], f"log_path={log_path}", "behavior_if_log_dir_exists=resume", *kept]
        return "resume from the last checkpoint with: python -m tinkerlite " + " ".join(shlex.quote(w) for w in words)

    return report_errors(prog, body, resume_hint)


def _docstring_summary(doc: str) -> str:
    """A module docstring as plain text for ``--help``: reST ``:role:`x``` and double backquotes removed."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", doc)
    return text.replace("``", "").strip()


def prepare_log_dir(values: dict[str, Any], kind: str) -> str:
    """Logging level from ``TINKERLITE_LOG``; ``log_path`` (default ``runs/<kind>-<time>``) checked and writable.

    The chosen path is stored back in ``values["log_path"]`` so an interrupted run can say how to resume.
    """
    logging.basicConfig(level=os.environ.get("TINKERLITE_LOG", "WARNING"))
    log_path: str = values.get("log_path") or os.path.join("runs", time.strftime(f"{kind}-%Y%m%d-%H%M%S"))
    check_log_dir(log_path, values["behavior_if_log_dir_exists"])
    try:
        os.makedirs(log_path, exist_ok=True)
        probe = os.path.join(log_path, f".write-test-{os.getpid()}")
        with open(probe, "wb"):
            pass
        os.unlink(probe)
    except OSError as e:
        raise ValidationError(
            f"cannot write to {log_path!r} ({e.strerror or e}); pass a writable log_path=", field="log_path"
        ) from None
    values["log_path"] = log_path
    return log_path


def recommended_renderer(model_name: str, renderer_name: str | None) -> str:
    if renderer_name is not None:
        return renderer_name
    from .model_info import get_recommended_renderer_name

    return get_recommended_renderer_name(model_name)
