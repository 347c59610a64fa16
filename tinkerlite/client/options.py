"""Client configuration types named at the top of SDK 0.38: ``Timeout`` and ``RequestOptions``.

The SDK re-exports ``httpx.Timeout``; tinkerlite has no httpx, so ``Timeout`` here is a standard-library
class with the same constructor rules (one value for all four phases, per-phase overrides, a 4-tuple or
another ``Timeout``) and the same attributes. ``RequestOptions`` is the SDK's per-request options dict.
"""

from __future__ import annotations

from typing import Any, TypedDict

_UNSET: Any = object()
_PHASES = ("connect", "read", "write", "pool")


class Timeout:
    """Per-phase timeouts in seconds (``None``: no limit): ``connect``, ``read``, ``write``, ``pool``."""

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None

    def __init__(
        self,
        timeout: Any = _UNSET,
        *,
        connect: Any = _UNSET,
        read: Any = _UNSET,
        write: Any = _UNSET,
        pool: Any = _UNSET,
    ) -> None:
        given = dict(zip(_PHASES, (connect, read, write, pool), strict=True))
        if isinstance(timeout, Timeout):
            if any(v is not _UNSET for v in given.values()):
                raise ValueError("Timeout: per-phase values cannot be combined with a Timeout instance")
            values = [timeout.connect, timeout.read, timeout.write, timeout.pool]
        elif isinstance(timeout, tuple):
            if len(timeout) != 4:
                raise ValueError(f"Timeout: a tuple needs 4 values (connect, read, write, pool), got {timeout!r}")
            values = list(timeout)
        elif timeout is _UNSET:
            missing = [k for k, v in given.items() if v is _UNSET]
            if missing:
                raise ValueError(
                    "Timeout needs either a default, e.g. Timeout(10.0), or all four values set explicitly; "
                    f"missing {', '.join(missing)}"
                )
            values = list(given.values())
        else:
            values = [timeout if v is _UNSET else v for v in given.values()]
        for name, v in zip(_PHASES, values, strict=True):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
                raise ValueError(f"Timeout.{name}: expected a non-negative number or None, got {v!r}")
            setattr(self, name, None if v is None else float(v))

    def as_dict(self) -> dict[str, float | None]:
        return {k: getattr(self, k) for k in _PHASES}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeout) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.as_dict().values()))

    def __repr__(self) -> str:
        vals = self.as_dict()
        if len(set(vals.values())) == 1:
            return f"Timeout(timeout={self.connect})"
        return "Timeout(" + ", ".join(f"{k}={v}" for k, v in vals.items()) + ")"


class RequestOptions(TypedDict, total=False):
    """Per-request options (the SDK's keys): extra headers, retries, timeout, query, extra JSON."""

    headers: dict[str, str]
    max_retries: int
    timeout: float | Timeout | None
    params: dict[str, object]
    extra_json: dict[str, object]
    idempotency_key: str
    follow_redirects: bool
