"""One stderr line per user mistake, for every ``tinkerlite`` command; tracebacks only on request.

A command wraps its body in :func:`report_errors`: bad input, missing files, an unwritable log dir, no
API key, an unreachable or refusing server and a missing extra each become ``prog: what was wrong; what
to do`` with exit code 2; Ctrl-C becomes one line saying how to resume, exit code 130; anything else (a
bug) one line with exit code 1. ``--debug`` or ``TINKERLITE_DEBUG=1`` lets the exception through with
its traceback instead.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["DEBUG_ENV", "EXIT_INTERRUPTED", "EXIT_USAGE", "debug_enabled", "describe", "report_errors"]

DEBUG_ENV = "TINKERLITE_DEBUG"
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def debug_enabled() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def describe(exc: BaseException) -> tuple[str, int] | None:
    """(message, exit code) for an exception a user can fix; None for one that is a bug."""
    from ._exceptions import APIConnectionError, APIStatusError, TinkerError
    from .errors import TinkerliteError

    if isinstance(exc, APIConnectionError):
        url = exc.request.url if exc.request is not None else "the Tinker API"
        after = getattr(exc, "unreachable_after_s", None)
        if after is None:
            return f"cannot reach {url}: {_one_line(exc.message)}", EXIT_USAGE
        source = getattr(exc, "base_url_source", "the base_url option")
        last = _one_line(getattr(exc, "last_error", ""))
        return (
            f"cannot reach the Tinker server at {url} (from {source}): nothing answered for {after:.0f} s "
            f"({last}); start the server or fix the URL, or leave base_url and TINKER_BASE_URL unset to use the "
            "embedded local server",
            EXIT_USAGE,
        )
    if isinstance(exc, APIStatusError):
        detail = _server_detail(exc)
        code = EXIT_USAGE if exc.status_code < 500 or "pip install" in detail else 1
        return f"the server refused a request ({exc.status_code}): {detail}", code
    if isinstance(exc, (TinkerliteError, TinkerError)):
        return _one_line(str(exc)), EXIT_USAGE
    if isinstance(exc, OSError) and exc.filename is not None:
        what = exc.strerror or type(exc).__name__
        return f"{exc.filename}: {what}; check the path and its permissions", EXIT_USAGE
    if isinstance(exc, FileNotFoundError) and exc.args:  # raised by our code with the path in its message
        return _one_line(str(exc)), EXIT_USAGE
    return None


def _server_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return _one_line(body["detail"])
    return _one_line(getattr(exc, "message", str(exc)))


def report_errors(prog: str, body: Callable[[], int], on_interrupt: Callable[[], str] | None = None) -> int:
    """Run ``body``; turn what it raises into one ``prog: ...`` line on stderr and an exit code."""
    if debug_enabled():
        try:
            return body()
        except KeyboardInterrupt:
            print(f"{prog}: interrupted", file=sys.stderr)
            raise
    # Work a Ctrl-C abandons (requests submitted to the client's loop that never ran) is collected as
    # "coroutine ... was never awaited", possibly while the interrupt unwinds, before any except clause:
    # expected after Ctrl-C and not actionable, it would break the one-line report. --debug keeps it.
    warnings.filterwarnings("ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning)
    try:
        return body()
    except KeyboardInterrupt:
        hint = on_interrupt() if on_interrupt is not None else ""
        print(f"{prog}: interrupted" + (f"; {hint}" if hint else ""), file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except SystemExit:
        raise
    except Exception as e:
        found = describe(e)
        if found is not None:
            message, code = found
        else:
            message = (
                f"unexpected {type(e).__name__}: {_one_line(str(e))} (a bug; rerun with --debug for the traceback)"
            )
            code = 1
        print(f"{prog}: {message}", file=sys.stderr, flush=True)
        return code
