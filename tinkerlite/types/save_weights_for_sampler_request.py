"""``tinker.types.save_weights_for_sampler_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord
from .model_id import ModelID
from .sampling_client_kind import SamplingClientKind

__all__ = ["SaveWeightsForSamplerRequest"]


@dataclass(kw_only=True)
class SaveWeightsForSamplerRequest(WireRecord):
    model_id: ModelID
    path: str | None = None
    sampling_session_seq_id: int | None = None
    kind: SamplingClientKind = "snapshot"
    seq_id: int | None = None
    ttl_seconds: int | None = None
    user_metadata: dict[str, str] | None = None
    type: Literal["save_weights_for_sampler"] = "save_weights_for_sampler"
