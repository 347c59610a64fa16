"""``tinker.types.load_weights_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Any, Literal

from ._lazy import dataclass
from ._wire_record import WireRecord
from .model_id import ModelID
from .optimizer import OptimizerConfig

__all__ = ["LoadWeightsRequest"]


@dataclass(kw_only=True)
class LoadWeightsRequest(WireRecord):
    model_id: ModelID | None = None
    seq_id: int | None = None
    session_id: str | None = None
    model_seq_id: int | None = None
    base_model: str | None = None
    user_metadata: dict[str, Any] | None = None
    path: str
    optimizer: bool
    optimizer_config: OptimizerConfig | None = None
    weights_access_token: str | None = None
    type: Literal["load_weights"] = "load_weights"
    _nested = {"optimizer_config": OptimizerConfig}  # noqa: RUF012
