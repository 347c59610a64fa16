"""``tinker.types.shared`` of the official SDK, at the same import path."""

from __future__ import annotations

from ..records import UntypedAPIFuture as UntypedAPIFuture

__all__ = ["UntypedAPIFuture"]
