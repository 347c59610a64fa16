"""``tinker.types.provenance_spans`` of the official SDK, at the same import path."""

from __future__ import annotations

from .provenance import PromptProvenanceSpan as PromptProvenanceSpan
from .provenance import ProvenanceSpans as ProvenanceSpans
from .provenance import SampledProvenanceSpan as SampledProvenanceSpan

__all__ = ["PromptProvenanceSpan", "ProvenanceSpans", "SampledProvenanceSpan"]
