"""Who is asking: API keys, the users they belong to, and which objects each user may see.

A server has no key (anyone on loopback is the user ``default``), one key (its holder is ``default``),
or a keys file with one key per user. Every object the server creates (session, model, sampler, future,
training run) records the user that created it; a lookup by another user finds nothing, so it answers
404 exactly as if the object did not exist. The user named ``admin`` sees everything.

The current user travels in a :mod:`contextvars` variable: the router sets it for each request, and the
scheduler runs each job in the context it was submitted from, so work done on a worker thread is checked
against the same user. Code outside any request (start-up, sweeps) acts as the system and sees all.
Keys are compared by SHA-256 digest (no early exit on a prefix) and are never logged or echoed.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ADMIN_USER",
    "DEFAULT_USER",
    "KeyRing",
    "Principal",
    "as_principal",
    "current",
    "current_user",
    "load_keys_file",
    "mask",
    "may_see",
]

DEFAULT_USER = "default"
ADMIN_USER = "admin"
_USER_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$")


@dataclass(frozen=True)
class Principal:
    user: str
    admin: bool = False


SYSTEM = Principal("<system>", admin=True)
_CURRENT: contextvars.ContextVar[Principal] = contextvars.ContextVar("tinkerlite_principal", default=SYSTEM)


def current() -> Principal:
    return _CURRENT.get()


def current_user() -> str:
    """The user new objects belong to (``default`` outside a request: single-user state)."""
    p = _CURRENT.get()
    return DEFAULT_USER if p is SYSTEM else p.user


def may_see(owner: object) -> bool:
    """Whether the current user may see an object owned by ``owner`` (None or absent: ``default``)."""
    p = _CURRENT.get()
    if p.admin:
        return True
    return (owner if isinstance(owner, str) and owner else DEFAULT_USER) == p.user


@contextmanager
def as_principal(p: Principal) -> Iterator[None]:
    token = _CURRENT.set(p)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def mask(key: str | None) -> str:
    """What a banner may print about a key: never any of its characters."""
    return "(none: any key is accepted)" if not key else f"<set, {len(key)} characters, not shown>"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class KeyRing:
    """Keys → users. Empty means open (no key checked, everyone is ``default``)."""

    def __init__(self, users: Mapping[str, str] | None = None) -> None:
        self._by_digest: dict[bytes, Principal] = {}
        for user, key in (users or {}).items():
            if not isinstance(user, str) or not _USER_RE.match(user):
                raise ValueError(f"user name {user!r} must be 1-64 letters, digits, '_', '.', '@', '-'")
            if not isinstance(key, str) or len(key) < 8 or key != key.strip():
                raise ValueError(f"the key of user {user!r} must be a string of at least 8 non-blank characters")
            d = _digest(key)
            if d in self._by_digest:
                raise ValueError(f"users {self._by_digest[d].user!r} and {user!r} share one key; give each its own")
            self._by_digest[d] = Principal(user, admin=user == ADMIN_USER)

    @classmethod
    def single(cls, api_key: str | None) -> KeyRing:
        ring = cls()
        if api_key:
            ring._by_digest[_digest(api_key)] = Principal(DEFAULT_USER)
        return ring

    def merged(self, other: KeyRing) -> KeyRing:
        out = KeyRing()
        out._by_digest = {**self._by_digest, **other._by_digest}
        return out

    @property
    def enabled(self) -> bool:
        return bool(self._by_digest)

    @property
    def users(self) -> list[str]:
        return sorted({p.user for p in self._by_digest.values()})

    def authenticate(self, given: str | None) -> Principal:
        """The principal for an ``X-API-Key`` value; AuthError 401 (missing) or 403 (unknown)."""
        if not self._by_digest:
            return Principal(DEFAULT_USER)
        if not given:
            raise AuthError(401, "missing X-API-Key header")
        p = self._by_digest.get(_digest(given))
        if p is None:
            raise AuthError(403, "invalid API key")
        return p

    def __repr__(self) -> str:  # never the keys
        return f"KeyRing(users={self.users})"


def load_keys_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a keys file: a JSON object ``{"user": "key", ...}`` or ``user:key`` lines (``#`` comments).

    The error for a malformed file names the file and the line, never the key.
    """
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as e:
        raise ValueError(f"cannot read keys file {p}: {e.strerror or e}") from None
    if text.lstrip().startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError as e:
            raise ValueError(f"keys file {p} is not valid JSON (line {getattr(e, 'lineno', '?')})") from None
        if not isinstance(obj, dict) or not all(isinstance(v, str) for v in obj.values()):
            raise ValueError(f"keys file {p} must map user names to key strings")
        return {str(k): v for k, v in obj.items()}
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, key = line.partition(":")
        if not sep or not user.strip() or not key.strip():
            raise ValueError(f"keys file {p} line {n}: expected 'user:key'")
        if user.strip() in out:
            raise ValueError(f"keys file {p} line {n}: user {user.strip()!r} appears twice")
        out[user.strip()] = key.strip()
    if not out:
        raise ValueError(f"keys file {p} holds no keys")
    return out


def read_key_file(path: str | os.PathLike[str]) -> str:
    """The single key in ``--api-key-file`` (surrounding whitespace stripped)."""
    p = Path(path)
    try:
        key = p.read_text("utf-8").strip()
    except OSError as e:
        raise ValueError(f"cannot read API key file {p}: {e.strerror or e}") from None
    if not key or "\n" in key:
        raise ValueError(f"API key file {p} must hold exactly one key on one line")
    return key
