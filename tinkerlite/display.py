"""Show which tokens of a datum are trained (green = weight > 0, yellow = prompt), and print trajectories."""

from __future__ import annotations

import io
import os
import sys
from typing import TYPE_CHECKING

from .tokenizers.base import Tokenizer
from .types import Datum, EncodedTextChunk, ModelInputChunk

if TYPE_CHECKING:  # annotations only: rl is a layer above this module
    from .rl.types import Trajectory

__all__ = ["colorize_example", "format_colorized", "format_trajectory", "to_ints"]

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


def to_ints(chunk: ModelInputChunk, tokenizer: Tokenizer) -> list[int]:
    """A chunk's tokens for display: text tokens as they are, an image's slots as the ``@`` token."""
    if isinstance(chunk, EncodedTextChunk):
        return list(chunk.tokens)
    from .tokenizer_utils import encode_without_special_tokens

    (at_token,) = encode_without_special_tokens(tokenizer, "@")
    return [at_token] * chunk.length


def colorize_example(datum: Datum, tokenizer: Tokenizer, key: str = "weights", color: bool | None = None) -> str:
    """The full sequence (inputs + last target) with each token colored by its weight.

    ``color=None`` is the cookbook's rendering (:func:`tinkerlite.utils.format_colorized.format_colorized`:
    green > 0, yellow 0, red < 0, colour by termcolor's rules); True/False is tinkerlite's two-colour one
    with the ``[[trained]]`` plain-text fallback (the inspect CLI's ``color=``).
    """
    tokens: list[int] = []
    for c in datum.model_input.chunks:
        tokens.extend(to_ints(c, tokenizer))
    targets = datum.loss_fn_inputs["target_tokens"].data
    if targets:
        tokens.append(int(targets[-1]))
    weights = [0.0] + [float(w) for w in datum.loss_fn_inputs[key].data]
    if color is None:
        from .utils.format_colorized import format_colorized as cookbook_format_colorized

        return cookbook_format_colorized(tokens, weights, tokenizer)
    return format_colorized(tokens, weights, tokenizer, color)


def _bold_green(text: str) -> str:
    """termcolor's ``colored(text, "green", attrs=["bold"])``: NO_COLOR off, FORCE_COLOR on, else a tty."""
    if "NO_COLOR" in os.environ or "ANSI_COLORS_DISABLED" in os.environ:
        return text
    if "FORCE_COLOR" not in os.environ and not sys.stdout.isatty():
        return text
    return f"\033[1m\033[32m{text}{_RESET}"


def format_trajectory(trajectory: Trajectory, tokenizer: Tokenizer, only_last_transition: bool = False) -> str:
    """Each transition's decoded observation and action, reward, done flag and metrics, as text."""
    buf = io.StringIO()

    def bprint(s: str) -> None:
        print(s, file=buf)

    bprint("=" * 60)
    transitions = list(enumerate(trajectory.transitions))
    if only_last_transition:
        transitions = transitions[-1:]
    for i, t in transitions:
        bprint(f"------ Transition {i} ------")
        bprint(f"{_bold_green('Observation:')}: {tokenizer.decode(t.ob.to_ints())}")
        bprint(f"{_bold_green('Action:')}: {tokenizer.decode(t.ac.tokens)}")
        bprint(f"{_bold_green('Reward:')}: {t.reward}")
        bprint(f"{_bold_green('Episode done:')}: {t.episode_done}")
        bprint(f"{_bold_green('Metrics:')}: {t.metrics}")
        bprint("-" * 60)
    bprint("=" * 60)
    return buf.getvalue()
