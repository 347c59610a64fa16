"""Exceptions raised by tinkerlite's own layers (validation, codecs, optional extras).

The SDK-compatible HTTP exception names (``APIError``, ``BadRequestError``, ...) live in
``tinkerlite._exceptions`` so that ``tinker`` users keep catching the same names; everything here is
about input the caller gave us, bytes a peer sent us, or a missing optional package.
"""

from __future__ import annotations

__all__ = [
    "MissingExtraError",
    "ProtocolError",
    "TinkerliteError",
    "ValidationError",
]


class TinkerliteError(Exception):
    """Base class of every exception tinkerlite raises on its own behalf."""


class ValidationError(TinkerliteError, ValueError):
    """Bad input caught before anything is sent.

    ``field`` is a dotted path to the offending value (``"loss_fn_inputs.weights.shape"``) so a user
    can find it in a batch of thousands of datums.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class ProtocolError(TinkerliteError, ValueError):
    """Bytes from a peer that do not decode as the message they claim to be."""


class MissingExtraError(TinkerliteError, ImportError):
    """An optional package is needed for this feature; the message names the extra to install."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{feature} needs the optional package {package!r}; install it with: pip install 'tinkerlite[{extra}]'"
        )
