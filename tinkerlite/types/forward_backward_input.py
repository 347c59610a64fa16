"""``tinker.types.forward_backward_input`` of the official SDK, at the same import path."""

from __future__ import annotations

from dataclasses import field

from ._lazy import dataclass
from ._wire_record import WireRecord
from .datum import Datum
from .params import LossFnType

__all__ = ["ForwardBackwardInput"]


@dataclass(kw_only=True)
class ForwardBackwardInput(WireRecord):
    data: list[Datum]
    loss_fn: LossFnType
    loss_fn_config: dict[str, float | str] | None = field(default=None)
    _nested_list = {"data": Datum}  # noqa: RUF012
