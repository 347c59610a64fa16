"""How the scripts report mistakes: one ``prog: ...`` line on stderr, exit 2 (tinkerlite's CLI rule).

The cookbook's functions signal a user mistake with ``SystemExit("message")`` (exit 1, message printed);
ours keep raising it, so code calling the functions behaves the same, and :func:`run_script` turns it into
the one-line, exit-2 form for the command line, as it does a missing or unreadable path. Everything else goes through
:func:`tinkerlite.cli_errors.report_errors` (``--debug`` / ``TINKERLITE_DEBUG=1`` for a traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from tinkerlite.cli_errors import EXIT_USAGE, report_errors

__all__ = ["run_script"]


def run_script(prog: str, body: Callable[[], None]) -> None:
    """Run a script's ``body``; exit with its one-line error and code, or 0."""

    def wrapped() -> int:
        try:
            body()
        except SystemExit as e:
            if isinstance(e.code, str):
                print(f"{prog}: {' '.join(e.code.split())}", file=sys.stderr, flush=True)
                return EXIT_USAGE
            raise
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as e:
            # a path the user gave is wrong: their mistake, even where the raiser set no ``filename``
            print(f"{prog}: {' '.join(str(e).split())}", file=sys.stderr, flush=True)
            return EXIT_USAGE
        return 0

    code = report_errors(prog, wrapped)
    if code:
        raise SystemExit(code)
