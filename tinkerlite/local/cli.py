"""``tinkerlite serve``: run the local Tinker-compatible server in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["build_parser", "main"]


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one stderr line (exit 2) instead of the usage block plus the error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = parser or _OneLineParser(
        prog="tinkerlite serve", description="Run a local Tinker-compatible server that trains a tiny numpy model."
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need --api-key)")
    p.add_argument("--port", type=int, default=8000, help="port to bind (0 picks a free one; default 8000)")
    p.add_argument(
        "--state-dir",
        default=None,
        help="directory for training runs, optimizer state and checkpoints, kept across restarts "
        "(an embedded run's is LOG_PATH/server; default: a temporary directory deleted on exit)",
    )
    p.add_argument(
        "--api-key",
        default=None,
        help="require this X-API-Key (visible in /proc/<pid>/cmdline: prefer $TINKER_API_KEY or --api-key-file)",
    )
    p.add_argument("--workers", type=int, default=2, help="compute threads (default 2)")
    p.add_argument(
        "--zstd", action="store_true", help="ask clients to zstd-compress forward_backward bodies (needs zstandard)"
    )
    from .serve_args import add_serve_args

    add_serve_args(p)  # --api-key-file, --keys-file, --access-log and the limits
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ..cli_errors import report_errors

    return report_errors("tinkerlite serve", lambda: _main(args))


def _main(args: argparse.Namespace) -> int:
    from .._optional import require

    require("numpy", "tinkerlite serve (the local server's model)", extra="local")  # before anything else
    from . import serve

    if not 0 <= args.port <= 65535:
        print(f"tinkerlite serve: --port must lie in [0, 65535], got {args.port}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("tinkerlite serve: --workers must be at least 1", file=sys.stderr)
        return 2
    from .serve_args import banner_lines, resolve_security

    try:
        sec = resolve_security(args)
    except ValueError as e:
        print(f"tinkerlite serve: {e}", file=sys.stderr)
        return 2
    for w in sec.warnings:
        print(f"tinkerlite serve: {w}", file=sys.stderr)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    try:
        ctx = serve(
            port=args.port,
            state_dir=args.state_dir,
            host=args.host,
            workers=args.workers,
            client_config={"proto_compress_fwdbwd": True} if args.zstd else None,
            **sec.serve_kwargs(),
        )
        with ctx as url:
            if threading.current_thread() is threading.main_thread():
                # Before the banner: a supervisor may send SIGTERM as soon as it reads the URL.
                signal.signal(signal.SIGINT, on_signal)
                signal.signal(signal.SIGTERM, on_signal)
            print(f"tinkerlite local server listening on {url}", flush=True)
            print("Point the tinker SDK (or tinkerlite) at it with:", flush=True)
            for line in banner_lines(sec, url):  # never the key itself
                print(line, flush=True)
            if args.state_dir is None:
                print("State is kept in a temporary directory; pass --state-dir to keep checkpoints.", flush=True)
            else:
                print(f"State (runs, checkpoints) in {args.state_dir}; delete that directory to delete it.", flush=True)
            while not stop.wait(0.5):
                pass
            print("shutting down", flush=True)
    except ValueError as e:
        print(f"tinkerlite serve: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        if e.filename is not None:  # the state dir, not the socket
            print(f"tinkerlite serve: cannot use {e.filename}: {e.strerror or e}", file=sys.stderr)
        else:
            print(f"tinkerlite serve: cannot bind {args.host}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
