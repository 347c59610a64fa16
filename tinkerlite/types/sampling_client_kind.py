"""``tinker.types.sampling_client_kind`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = ["SamplingClientKind"]


SamplingClientKind: TypeAlias = Literal["snapshot", "inflight"]
