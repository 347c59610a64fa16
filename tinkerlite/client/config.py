"""Where to connect and with which credential, resolved with the official SDK's precedence.

Every resolved value remembers *where it came from* so error messages can say "TINKER_BASE_URL
points at ..." or "the key from ~/.tinker/credentials.json was rejected" without ever printing a
secret.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._exceptions import TinkerError
from ..types._lazy import dataclass
from ..types.records import ClientConfigResponse

DEFAULT_BASE_URL = "https://tinker.thinkingmachines.dev/services/tinker-prod"
SDK_VERSION = "0.38.0"
"""The official SDK version whose wire behaviour this client reproduces (sent as ``sdk_version``)."""

# Fail-fast bound: how long the client keeps retrying when nothing answers at the base URL.
DEFAULT_UNREACHABLE_TIMEOUT_S = 25.0
UNREACHABLE_TIMEOUT_ENV = "TINKERLITE_UNREACHABLE_TIMEOUT"


@dataclass(frozen=True)
class BaseURL:
    url: str
    source: str  # "base_url argument" | "TINKER_BASE_URL" | "default"


def resolve_base_url(base_url: str | None, env: Mapping[str, str] | None = None) -> BaseURL:
    """Argument, then ``$TINKER_BASE_URL``, then the production URL; empty counts as unset."""
    env = os.environ if env is None else env
    if base_url:
        return BaseURL(base_url.rstrip("/"), "base_url argument")
    from_env = env.get("TINKER_BASE_URL", "")
    if from_env:
        return BaseURL(from_env.rstrip("/"), "TINKER_BASE_URL")
    return BaseURL(DEFAULT_BASE_URL, "default")


class Credential:
    """A credential plus its source; ``repr``/``str`` never show the value."""

    __slots__ = ("_cmd", "_value", "source")

    def __init__(self, value: str | None, source: str, *, cmd: str | None = None) -> None:
        self._value = value
        self._cmd = cmd
        self.source = source

    def get(self) -> str:
        """The current credential; a credential command runs on each call, as in the SDK."""
        if self._cmd is not None:
            return run_credential_cmd(self._cmd)
        assert self._value is not None
        return self._value

    @property
    def is_command(self) -> bool:
        return self._cmd is not None

    def __repr__(self) -> str:
        return f"Credential(source={self.source!r}, value=<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("credentials are not picklable; pass api_key again in the other process")


MISSING_KEY_MESSAGE = (
    "No Tinker credential found. Pass api_key=..., set TINKER_API_KEY, set TINKER_CREDENTIAL_CMD to a "
    "command that prints one, or store a default key in ~/.tinker/credentials.json."
)


def _check_prefix(value: str, source: str) -> None:
    if not (value.startswith("tml-") or value.startswith("eyJ")):
        raise TinkerError(f"The API key from {source} must start with the 'tml-' prefix (or be a JWT).")


def run_credential_cmd(cmd: str) -> str:
    """Run ``TINKER_CREDENTIAL_CMD`` and return its stripped output (never logged)."""
    try:
        proc = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        raise TinkerError(f"TINKER_CREDENTIAL_CMD could not be run: {type(e).__name__}") from None
    out = proc.stdout.strip()
    if proc.returncode != 0 or not out:
        raise TinkerError(
            f"TINKER_CREDENTIAL_CMD exited with status {proc.returncode} and "
            f"{'no output' if not out else 'output'}; it must print a credential on stdout."
        )
    return out


def read_stored_default(path: Path | None = None) -> str | None:
    """The default key of ``~/.tinker/credentials.json`` (``{"default": id, "keys": {id: {"key"}}}``)."""
    path = path or Path("~/.tinker/credentials.json").expanduser()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    default = raw.get("default")
    keys = raw.get("keys")
    if not isinstance(default, str) or not isinstance(keys, dict):
        return None
    record = keys.get(default)
    if isinstance(record, dict) and isinstance(record.get("key"), str):
        return str(record["key"])
    return None


def resolve_credential(
    api_key: str | None,
    env: Mapping[str, str] | None = None,
    credentials_path: Path | None = None,
) -> Credential:
    """Official precedence: argument, ``TINKER_API_KEY``, ``TINKER_CREDENTIAL_CMD``, stored default.

    A key with a bad prefix falls back to the credential command when one is set, as in 0.38.
    """
    env = os.environ if env is None else env
    cmd = env.get("TINKER_CREDENTIAL_CMD", "")
    candidates = [(api_key, "the api_key argument"), (env.get("TINKER_API_KEY"), "TINKER_API_KEY")]
    for value, source in candidates:
        if value:
            if value.startswith("eyJ"):
                return Credential(value, source)
            try:
                _check_prefix(value, source)
            except TinkerError:
                if cmd:
                    return Credential(None, "TINKER_CREDENTIAL_CMD", cmd=cmd)
                raise
            return Credential(value, source)
    if cmd:
        return Credential(None, "TINKER_CREDENTIAL_CMD", cmd=cmd)
    path = credentials_path or Path("~/.tinker/credentials.json").expanduser()
    stored = read_stored_default(path)
    if stored:
        source = f"the default key in {path}"
        _check_prefix(stored, source)
        return Credential(stored, source)
    raise TinkerError(MISSING_KEY_MESSAGE)


#: ``/api/v1/client/config``: one record type shared with the server (defaults are the official ones).
ClientConfig = ClientConfigResponse


@dataclass(frozen=True)
class DynamicConfig:
    refresh_interval_sec: float = 300.0
    sample_cancel_enabled: bool = False
    sample_cancel_max_batch_size: int = 64

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> DynamicConfig:
        return cls(
            refresh_interval_sec=float(raw.get("refresh_interval_sec") or 300.0),
            sample_cancel_enabled=bool(raw.get("sample_cancel_enabled", False)),
            sample_cancel_max_batch_size=int(raw.get("sample_cancel_max_batch_size") or 64),
        )


def resolve_unreachable_timeout(value: float | None, env: Mapping[str, str] | None = None) -> float:
    """The fail-fast bound: argument, then ``$TINKERLITE_UNREACHABLE_TIMEOUT``, then 25 s."""
    env = os.environ if env is None else env
    if value is not None:
        return float(value)
    raw = env.get(UNREACHABLE_TIMEOUT_ENV, "")
    if raw:
        try:
            return float(raw)
        except ValueError:
            raise TinkerError(f"{UNREACHABLE_TIMEOUT_ENV}={raw!r} is not a number of seconds") from None
    return DEFAULT_UNREACHABLE_TIMEOUT_S


def project_id_from_env(project_id: str | None, env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    return project_id if project_id is not None else (env.get("TINKER_PROJECT_ID") or None)


def tags_from_env(env: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    return [t.strip() for t in env.get("TINKER_TAGS", "").split(",") if t.strip()]
