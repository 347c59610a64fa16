"""``tinker.types.save_weights_for_sampler_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord
from .records import SaveWeightsForSamplerResponse as SaveWeightsForSamplerResponse

__all__ = ["SaveWeightsForSamplerResponse", "SaveWeightsForSamplerResponseInternal"]


@dataclass(kw_only=True)
class SaveWeightsForSamplerResponseInternal(WireRecord):
    path: str | None = None
    sampling_session_id: str | None = None
    type: Literal["save_weights_for_sampler"] | None = None
