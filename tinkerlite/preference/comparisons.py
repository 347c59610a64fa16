"""Comparison JSONL files: ``{"comparison": {prompt_conversation, completion_A, completion_B}, "label": ...}``.

Every row is checked before training starts and a bad one is reported as ``file:line: field: problem``:
malformed JSON or messages, unknown labels, empty completions, and A/B-labelled rows whose two
completions are identical (a preference between equal answers carries no signal, and DPO's gradient
for it is exactly zero).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..supervised.data import DataFormatError, validate_messages
from .types import LABELS, Comparison, LabeledComparison

__all__ = [
    "LocatedComparison",
    "comparison_to_row",
    "parse_comparison_row",
    "read_comparison_file",
    "write_comparison_file",
]


@dataclass(frozen=True)
class LocatedComparison:
    """A labelled comparison and where it came from (for error messages raised later, e.g. at render time)."""

    labeled: LabeledComparison
    path: str
    line: int


def _has_content(messages: list[Any]) -> bool:
    for m in messages:
        content = m.get("content")
        if isinstance(content, str) and content.strip():
            return True
        if isinstance(content, list) and content:
            return True
        if m.get("tool_calls"):
            return True
    return False


def parse_comparison_row(row: Any, *, path: str | None = None, line: int | None = None) -> LabeledComparison:
    """Validate one decoded row and build the :class:`LabeledComparison`."""

    def fail(msg: str, field: str | None = None) -> DataFormatError:
        return DataFormatError(msg, path=path, line=line, field=field)

    if not isinstance(row, dict):
        raise fail(f"each line must be a JSON object, got {type(row).__name__}")
    missing = [k for k in ("comparison", "label") if k not in row]
    if missing:
        raise fail(f"missing {', '.join(repr(k) for k in missing)} (keys: {sorted(row)})")
    label = row["label"]
    if label not in LABELS:
        raise fail(f"must be one of {', '.join(LABELS)}; got {label!r}", "label")
    comp = row["comparison"]
    if not isinstance(comp, dict):
        raise fail(f"must be an object, got {type(comp).__name__}", "comparison")
    parts: dict[str, list[Any]] = {}
    for key in ("prompt_conversation", "completion_A", "completion_B"):
        if key not in comp:
            raise fail(f"missing {key!r} (keys: {sorted(comp)})", "comparison")
        value = comp[key]
        if isinstance(value, list) and not value:
            what = "prompt" if key == "prompt_conversation" else "completion"
            raise fail(f"is empty: a {what} needs at least one message", f"comparison.{key}")
        try:
            parts[key] = validate_messages(value, path=None, line=None)
        except DataFormatError as e:
            raise fail(str(e), f"comparison.{key}") from None
        if key != "prompt_conversation" and not _has_content(parts[key]):
            raise fail("has no content: every message of the completion is empty", f"comparison.{key}")
    if label != "Tie" and parts["completion_A"] == parts["completion_B"]:
        raise fail(
            f"completion_A and completion_B are identical but labelled {label!r}: a preference between equal "
            "completions carries no signal",
            "comparison",
        )
    return LabeledComparison(
        Comparison(parts["prompt_conversation"], parts["completion_A"], parts["completion_B"]), label
    )


def _iter_rows(path: str) -> Iterator[tuple[int, Any]]:
    try:
        f = open(path, "rb")
    except OSError as e:
        raise DataFormatError(f"cannot open comparison file: {e.strerror}", path=path, line=0) from None
    with f:
        for lineno, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataFormatError(f"not valid UTF-8 (byte {e.start})", path=path, line=lineno) from None
            try:
                yield lineno, json.loads(text)
            except json.JSONDecodeError as e:
                raise DataFormatError(f"invalid JSON: {e.msg} at column {e.colno}", path=path, line=lineno) from None


def read_comparison_file(path: str | os.PathLike[str]) -> list[LocatedComparison]:
    """Every row of the file, validated; the first bad row raises :class:`DataFormatError` with its line."""
    p = os.fspath(path)
    out = [LocatedComparison(parse_comparison_row(row, path=p, line=n), p, n) for n, row in _iter_rows(p)]
    if not out:
        raise DataFormatError("comparison file has no rows", path=p, line=0)
    return out


def comparison_to_row(lc: LabeledComparison) -> dict[str, Any]:
    c = lc.comparison
    return {
        "comparison": {
            "prompt_conversation": [dict(m) for m in c.prompt_conversation],
            "completion_A": [dict(m) for m in c.completion_A],
            "completion_B": [dict(m) for m in c.completion_B],
        },
        "label": lc.label,
    }


def write_comparison_file(path: str | os.PathLike[str], comparisons: Iterable[LabeledComparison]) -> str:
    p = os.fspath(path)
    with open(p, "w", encoding="utf-8") as f:
        for lc in comparisons:
            f.write(json.dumps(comparison_to_row(lc), ensure_ascii=False) + "\n")
    return p
