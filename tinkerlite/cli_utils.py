"""``key=value`` command lines in the cookbook's style, with typed parsing and a generated ``--help``."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ValidationError
from .utils.ml_log import LogdirBehavior, check_log_dir

__all__ = ["LogdirBehavior", "Option", "check_log_dir", "format_help", "parse_key_values"]


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
            raise ValidationError(f"expected key=value, got {word!r} (see --help)", field="argv")
        key, raw = word.split("=", 1)
        key = key.strip().lstrip("-").replace("-", "_")
        name = key if key in by_name else key.rsplit(".", 1)[-1]
        if name not in by_name:
            close = difflib.get_close_matches(name, list(by_name), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValidationError(f"unknown option {key!r}{hint}", field="argv")
        values[name] = _convert(by_name[name], raw)
    return values


def format_help(prog: str, summary: str, options: Sequence[Option]) -> str:
    width = max(len(o.name) for o in options) + 2
    lines = [f"usage: {prog} [key=value ...]", "", summary, "", "options (key=value; defaults shown):"]
    for o in options:
        lines.append(f"  {o.name:<{width}} {o.default!r:<24} {o.help}")
    return "\n".join(lines)
