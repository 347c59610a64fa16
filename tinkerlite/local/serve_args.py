"""The key, user and limit options of ``tinkerlite serve``, kept apart from the rest of its CLI.

Why a key should not be an argument: ``--api-key`` is readable by every local user in
``/proc/<pid>/cmdline`` and ``ps``. ``serve`` therefore reads its key from ``TINKER_API_KEY`` or
``--api-key-file`` (and still accepts ``--api-key``, with a warning). ``--keys-file`` gives one key per
user. The banner says which source was used and how long the key is; it never prints the key.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import Any

from . import auth
from .limits import ServerLimits, add_limit_args, limits_from_args

__all__ = ["ServeSecurity", "add_serve_args", "banner_lines", "resolve_security"]


def add_serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--api-key-file",
        default=None,
        metavar="PATH",
        help="read the server's API key from this file (one line); default: $TINKER_API_KEY if set",
    )
    p.add_argument(
        "--keys-file",
        default=None,
        metavar="PATH",
        help="one key per user: a JSON object {user: key} or 'user:key' lines; each user sees only its own "
        "sessions, runs, checkpoints and samplers; the user 'admin' sees all",
    )
    p.add_argument(
        "--access-log",
        default=None,
        metavar="PATH",
        help="append one line per request (time, user, method, path, status, duration, run id; never a key) "
        "to PATH ('-' for stderr)",
    )
    add_limit_args(p)


@dataclass
class ServeSecurity:
    api_key: str | None = field(default=None, repr=False)
    api_keys: dict[str, str] = field(default_factory=dict, repr=False)
    key_source: str = "none"
    limits: ServerLimits = field(default_factory=ServerLimits)
    access_log: str | None = None
    warnings: list[str] = field(default_factory=list)

    def serve_kwargs(self) -> dict[str, Any]:
        return {
            "api_key": self.api_key,
            "api_keys": self.api_keys or None,
            "limits": self.limits,
            "access_log": self.access_log,
        }


def resolve_security(args: argparse.Namespace, environ: Any = None) -> ServeSecurity:
    """Keys and limits from the parsed arguments and the environment (ValueError for a bad file)."""
    env = os.environ if environ is None else environ
    out = ServeSecurity(limits=limits_from_args(args), access_log=getattr(args, "access_log", None))
    given = getattr(args, "api_key", None)
    key_file = getattr(args, "api_key_file", None)
    if given and key_file:
        raise ValueError("pass either --api-key or --api-key-file, not both")
    if given:
        out.api_key, out.key_source = given, "--api-key"
        out.warnings.append(
            "warning: --api-key is visible to every local user in /proc/<pid>/cmdline and ps; "
            "prefer TINKER_API_KEY or --api-key-file"
        )
    elif key_file:
        out.api_key, out.key_source = auth.read_key_file(key_file), f"--api-key-file {key_file}"
    elif env.get("TINKER_API_KEY"):
        out.api_key, out.key_source = env["TINKER_API_KEY"], "$TINKER_API_KEY"
    if getattr(args, "keys_file", None):
        out.api_keys = auth.load_keys_file(args.keys_file)
        auth.KeyRing(out.api_keys)  # validate now: a bad file is one clear line at start-up
    return out


def banner_lines(sec: ServeSecurity, url: str) -> list[str]:
    """What ``serve`` prints about keys: where each came from, never the key itself."""
    lines = [f"  export TINKER_BASE_URL={url}"]
    if sec.api_key is None and not sec.api_keys:
        lines.append("  export TINKER_API_KEY=tml-local   (no key configured: any key is accepted)")
        return lines
    if sec.api_key is not None:
        lines.append(f"  export TINKER_API_KEY=<the server's key>   (from {sec.key_source}; {auth.mask(sec.api_key)})")
    if sec.api_keys:
        users = ", ".join(sorted(sec.api_keys))
        lines.append(f"  export TINKER_API_KEY=<your own key from the keys file>   (users: {users})")
    return lines
