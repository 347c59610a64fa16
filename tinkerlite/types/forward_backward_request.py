"""``tinker.types.forward_backward_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from ._lazy import dataclass
from ._wire_record import WireRecord
from .forward_backward_input import ForwardBackwardInput
from .model_id import ModelID

__all__ = ["ForwardBackwardRequest"]


@dataclass(kw_only=True)
class ForwardBackwardRequest(WireRecord):
    forward_backward_input: ForwardBackwardInput
    model_id: ModelID
    seq_id: int | None = None
    _nested = {"forward_backward_input": ForwardBackwardInput}  # noqa: RUF012
