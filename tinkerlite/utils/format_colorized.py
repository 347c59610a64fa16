"""Token weights shown as colour (the cookbook's ``utils.format_colorized``), with ANSI codes instead of termcolor.

Green: weight > 0 (trained), yellow: 0, red: < 0. Runs of one colour are decoded together so multi-byte
characters survive, and every line of a run is coloured separately (so ``less -R`` and log viewers keep the
colour across newlines). Colour follows termcolor's rules: off with ``NO_COLOR`` or ``ANSI_COLORS_DISABLED``,
on with ``FORCE_COLOR``, else on when stdout is a terminal. (:func:`tinkerlite.display.format_colorized` is
tinkerlite's variant with an explicit ``color`` switch and a plain-text fallback.)
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["format_colorized"]

_CODES = {"red": "\033[31m", "yellow": "\033[33m", "green": "\033[32m"}
_RESET = "\033[0m"


def _can_color() -> bool:
    if os.environ.get("ANSI_COLORS_DISABLED") or "NO_COLOR" in os.environ:
        return False
    if "FORCE_COLOR" in os.environ:
        return True
    return hasattr(sys.stdout, "isatty") and sys.stdout.isatty()


def format_colorized(tokens: list[int], weights: list[float], tokenizer: Any, draw_newline_arrow: bool = False) -> str:
    """The decoded tokens, each run coloured by the sign of its weight (``↵`` marks newlines if asked)."""
    if len(tokens) != len(weights):
        raise ValueError("`tokens` and `weights` must be the same length.")
    color = _can_color()
    chunks: list[str] = []
    run: list[int] = []
    run_color: str | None = None

    def flush() -> None:
        for line in str(tokenizer.decode(run)).splitlines(keepends=True):
            if draw_newline_arrow:
                line = line.replace("\n", "↵\n")
            chunks.append(f"{_CODES[run_color]}{line}{_RESET}" if color and run_color else line)

    for tok, w in zip(tokens, weights, strict=True):
        c = "red" if w < 0 else "yellow" if w == 0 else "green"
        if c != run_color and run:
            flush()
            run = []
        run.append(tok)
        run_color = c
    flush()
    return "".join(chunks)
