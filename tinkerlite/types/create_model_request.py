"""``tinker.types.create_model_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal

from ._lazy import dataclass
from ._wire_record import WireRecord
from .optimizer import AdamOptimizerConfig, OptimizerConfig
from .params import LoraConfig

__all__ = ["CreateModelRequest"]


@dataclass(kw_only=True)
class CreateModelRequest(WireRecord):
    session_id: str
    model_seq_id: int
    base_model: str
    user_metadata: dict[str, Any] | None = None
    lora_config: LoraConfig | None = None
    optimizer_config: OptimizerConfig = field(default_factory=AdamOptimizerConfig)
    type: Literal["create_model"] = "create_model"
    _nested = {"lora_config": LoraConfig}  # noqa: RUF012
