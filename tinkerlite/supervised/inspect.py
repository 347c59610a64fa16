"""``tinkerlite inspect FILE.jsonl``: show which tokens of each conversation would be trained.

Green = trained (weight > 0), yellow = context. Without a color terminal (or with ``NO_COLOR``),
trained spans are wrapped in ``[[...]]``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ..cli_utils import Option, format_help, parse_key_values
from ..errors import TinkerliteError

__all__ = ["main"]

OPTIONS = [
    Option("model_name", str, "tinkerlite/tiny-chat", "whose tokenizer to use"),
    Option("renderer_name", str | None, None, "renderer (default: the model's recommended one)"),
    Option("train_on_what", str | None, None, "TrainOnWhat mode"),
    Option("max_length", int | None, None, "truncate like training does"),
    Option("n", int, 3, "how many conversations to show"),
    Option("color", str, "auto", "auto | always | never"),
]


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    if not args or args[0] in ("-h", "--help"):
        print(format_help("tinkerlite inspect FILE.jsonl", __doc__ or "", OPTIONS))
        return 0 if args else 2
    path, rest = args[0], args[1:]
    try:
        v = parse_key_values(rest, OPTIONS)
        from ..display import colorize_example
        from ..model_info import get_recommended_renderer_name
        from ..renderers import TrainOnWhat, get_renderer
        from ..tokenizers import get_tokenizer
        from .data import conversation_to_datum, read_conversation_file

        tokenizer = get_tokenizer(v["model_name"])
        renderer = get_renderer(v["renderer_name"] or get_recommended_renderer_name(v["model_name"]), tokenizer)
        tow = TrainOnWhat(v["train_on_what"]) if v["train_on_what"] else None
        # auto: colour on a terminal, else the plain-text [[trained]] markers (never None: that is the
        # cookbook's rendering, which shows nothing without colour)
        auto = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        color = {"always": True, "never": False}.get(v["color"], auto)
        for i, (line, messages) in enumerate(read_conversation_file(path)):
            if i >= v["n"]:
                break
            datum = conversation_to_datum(messages, renderer, v["max_length"], tow, reduction="none")
            n_trained = sum(1 for w in datum.loss_fn_inputs["weights"].data if w > 0)
            print(f"--- {path}:{line}  ({datum.model_input.length + 1} tokens, {n_trained} trained)")
            print(colorize_example(datum, tokenizer, color=color))
    except (TinkerliteError, OSError) as e:
        print(f"tinkerlite inspect: {e}", file=sys.stderr)
        return 2
    return 0
