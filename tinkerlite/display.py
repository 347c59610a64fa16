"""Show which tokens of a datum are trained: green = weight > 0 (trained), yellow = prompt (weight 0)."""

from __future__ import annotations

import os
import sys

from .tokenizers.base import Tokenizer
from .types import Datum, EncodedTextChunk

__all__ = ["colorize_example", "format_colorized"]

_GREEN, _YELLOW, _RESET = "\033[32m", "\033[33m", "\033[0m"


def _use_color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def format_colorized(tokens: list[int], weights: list[float], tokenizer: Tokenizer, color: bool | None = None) -> str:
    """Decode runs of equally-weighted tokens; mark trained runs green (or ``[[...]]`` without color)."""
    color = _use_color() if color is None else color
    out: list[str] = []
    run: list[int] = []
    run_trained: bool | None = None

    def flush() -> None:
        if not run:
            return
        text = tokenizer.decode(run)
        if color:
            out.append(f"{_GREEN if run_trained else _YELLOW}{text}{_RESET}")
        else:
            out.append(f"[[{text}]]" if run_trained else text)

    for tok, w in zip(tokens, weights, strict=True):
        trained = w > 0
        if trained != run_trained:
            flush()
            run, run_trained = [], trained
        run.append(tok)
    flush()
    return "".join(out)


def colorize_example(datum: Datum, tokenizer: Tokenizer, key: str = "weights", color: bool | None = None) -> str:
    """The full sequence (inputs + last target) with each token colored by its weight."""
    tokens: list[int] = []
    for c in datum.model_input.chunks:
        tokens.extend(c.tokens if isinstance(c, EncodedTextChunk) else [0] * c.length)
    targets = datum.loss_fn_inputs["target_tokens"].data
    if targets:
        tokens.append(int(targets[-1]))
    weights = [0.0] + [float(w) for w in datum.loss_fn_inputs[key].data]
    return format_colorized(tokens, weights, tokenizer, color)
