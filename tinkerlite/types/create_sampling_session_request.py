"""``tinker.types.create_sampling_session_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["CreateSamplingSessionRequest"]


@dataclass(kw_only=True)
class CreateSamplingSessionRequest(WireRecord):
    session_id: str
    sampling_session_seq_id: int
    base_model: str | None = None
    model_path: str | None = None
    type: Literal["create_sampling_session"] = "create_sampling_session"
