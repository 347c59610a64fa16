"""``tinker.types.forward_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord
from .forward_backward_input import ForwardBackwardInput
from .model_id import ModelID

__all__ = ["ForwardRequest"]


@dataclass(kw_only=True)
class ForwardRequest(WireRecord):
    forward_input: ForwardBackwardInput
    model_id: ModelID
    seq_id: int | None = None
    _nested = {"forward_input": ForwardBackwardInput}  # noqa: RUF012
