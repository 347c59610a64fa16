"""Provenance spans (0.38): which sampled sequence each run of datum positions came from."""

from __future__ import annotations

from typing import TypeAlias

from ..errors import ValidationError
from ._lazy import dataclass

__all__ = ["PromptProvenanceSpan", "ProvenanceSpans", "SampledProvenanceSpan"]


def _check(span: PromptProvenanceSpan | SampledProvenanceSpan) -> None:
    name = type(span).__name__
    if not isinstance(span.sequence_id, str) or not span.sequence_id:
        raise ValidationError("sequence_id must be a non-empty string", field=f"{name}.sequence_id")
    for attr in ("offset", "length"):
        v = getattr(span, attr)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValidationError(f"must be a non-negative int, got {v!r}", field=f"{name}.{attr}")


@dataclass(frozen=True, kw_only=True)
class PromptProvenanceSpan:
    """Datum positions that are ``[offset, offset+length)`` of a sampled request's prompt."""

    sequence_id: str
    offset: int = 0
    length: int

    def __post_init__(self) -> None:
        _check(self)


@dataclass(frozen=True, kw_only=True)
class SampledProvenanceSpan:
    """Datum positions that are ``[offset, offset+length)`` of a sampled sequence's tokens."""

    sequence_id: str
    offset: int = 0
    length: int

    def __post_init__(self) -> None:
        _check(self)


ProvenanceSpans: TypeAlias = list[PromptProvenanceSpan | SampledProvenanceSpan]
