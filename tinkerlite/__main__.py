"""``python -m tinkerlite`` / ``tinkerlite``: one entry point, one subcommand per job."""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from .cli_errors import DEBUG_ENV, EXIT_USAGE

# subcommand -> (module, help). Each module exposes ``main(argv) -> int``; imported only when used.
_COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("tinkerlite.local.cli", "run the local Tinker-compatible server"),
    "sl": ("tinkerlite.supervised.cli", "supervised fine-tuning (key=value config; no args: the demo job)"),
    "rl": ("tinkerlite.rl.cli", "reinforcement learning (key=value config)"),
    "dpo": ("tinkerlite.preference.cli", "direct preference optimisation (key=value config)"),
    "distill": ("tinkerlite.distillation.cli", "on-policy distillation (key=value config)"),
    "plot": ("tinkerlite.plotting", "write an SVG of a run's metrics.jsonl"),
    "inspect": ("tinkerlite.supervised.inspect", "show which tokens of a datum are trained"),
    "cost": ("tinkerlite.utils.cost_report", "summarise the tokens and USD a run logged"),
    "view": ("tinkerlite.view.cli", "browse runs, curves and checkpoints in the browser (serves a local page)"),
}


def _usage() -> str:
    lines = ["usage: tinkerlite COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<8} {help_}" for name, (_, help_) in _COMMANDS.items()]
    lines += ["", "With no command, runs `sl` (the README's main job against the embedded local server)."]
    lines += ["--debug (or TINKERLITE_DEBUG=1) shows tracebacks instead of one-line errors."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--debug" in args:  # anywhere on the line: tracebacks instead of one-line errors
        args = [a for a in args if a != "--debug"]
        os.environ[DEBUG_ENV] = "1"
    if args and args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if args and args[0] not in _COMMANDS and "=" not in args[0] and not args[0].startswith("-"):
        close = difflib.get_close_matches(args[0], list(_COMMANDS), n=2, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        print(f"tinkerlite: unknown command {args[0]!r}; {hint}(commands: {', '.join(_COMMANDS)})", file=sys.stderr)
        return EXIT_USAGE
    name = args.pop(0) if args and args[0] in _COMMANDS else "sl"
    module_name, _ = _COMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith("tinkerlite"):
            msg = f"tinkerlite: the {name!r} command is not available in this version ({e.name} missing)"
            print(msg, file=sys.stderr)
            return EXIT_USAGE
        raise
    entry: Callable[[list[str]], int] = module.main
    return entry(args)


if __name__ == "__main__":
    sys.exit(main())
