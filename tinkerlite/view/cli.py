"""``tinkerlite view [LOG_DIR ...]``: serve the run viewer (or ``--export DIR`` a static copy of it).

With no LOG_DIR it shows the runs under the default runs dir (``$TINKER_COOKBOOK_RUNS_DIR``, else
``~/tinker-runs``). It listens on loopback unless ``--host`` says otherwise, prints the URL, and with
``--open`` launches the system browser. Mistakes (a path that is not a run dir, a busy port) are one line
on stderr with exit code 2, like every other tinkerlite command.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from collections.abc import Sequence

from ..cli_errors import EXIT_USAGE, report_errors
from ..errors import TinkerliteError

__all__ = ["ViewUsageError", "build_parser", "main"]

PROG = "tinkerlite view"


class ViewUsageError(TinkerliteError):
    """A ``tinkerlite view`` argument that cannot be used (shown as one line)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{PROG}: {message} (see --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Serve the viewer for the run dirs under LOG_DIR (or --export a static copy).")
    p.add_argument("log_dirs", nargs="*", metavar="LOG_DIR", help="run dirs, or dirs searched for run dirs")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--open", action="store_true", help="open the page in the system browser")
    p.add_argument("--export", metavar="DIR", help="write a static snapshot (opens from disk) and exit")
    p.add_argument("--max-points", type=int, default=2000, help="points kept per curve (longer runs are thinned)")
    return p


def _roots(log_dirs: Sequence[str]) -> list[str]:
    if log_dirs:
        return list(log_dirs)
    from ..cli_utils import runs_path

    return [runs_path()]


def _run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    if not 0 <= args.port <= 65535:
        raise ViewUsageError(f"--port: {args.port} is not a port number (0..65535)")
    if args.max_points < 10:
        raise ViewUsageError(f"--max-points: {args.max_points} is too few (at least 10)")
    from .runs import NotARunDirError

    roots = _roots(args.log_dirs)
    try:
        if args.export:
            from .snapshot import export_snapshot

            files = export_snapshot(roots, args.export, args.max_points)
            print(f"snapshot: {files[0]} ({len(files)} files; open it in a browser, no server needed)")
            return 0
        from .server import make_server

        try:
            server = make_server(roots, args.host, args.port, args.max_points)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise ViewUsageError(
                    f"port {args.port} on {args.host} is busy (another viewer or program listens there); "
                    "pick another with --port, or --port 0 for any free one"
                ) from None
            if e.errno in (errno.EADDRNOTAVAIL, None) or isinstance(e, socket.gaierror):
                raise ViewUsageError(f"--host {args.host}: cannot listen there ({e})") from None
            raise
    except NotARunDirError as e:
        raise ViewUsageError(str(e)) from None
    n = len(server.registry.refresh())
    if not server.loopback_only:
        print(
            f"{PROG}: listening on {args.host}: anyone who can reach this address can read these runs and sample "
            "their checkpoints",
            file=sys.stderr,
        )
    print(f"tinkerlite view: {n} run(s) at {server.url}  (Ctrl-C stops)", flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # the normal way to stop a viewer: not an error
        print(f"{PROG}: stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0


def main(argv: Sequence[str]) -> int:
    return report_errors(PROG, lambda: _run(argv))
