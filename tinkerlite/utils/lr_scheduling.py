"""Learning-rate schedules, with the cookbook's names and formulas plus an optional linear warmup."""

from __future__ import annotations

import math
from typing import Literal

from ..errors import ValidationError

__all__ = ["LRSchedule", "compute_schedule_lr_multiplier"]

LRSchedule = Literal["linear", "cosine", "constant"]


def compute_schedule_lr_multiplier(
    lr_schedule: LRSchedule | str, step: int, total_steps: int, warmup_steps: int = 0
) -> float:
    """Multiplier in [0, 1] for ``step`` (0-based) of ``total_steps``.

    Without warmup this is exactly the cookbook's ``1 - step/total`` (linear), ``½(1+cos(π·step/total))``
    (cosine) or 1 (constant). With ``warmup_steps`` the first steps ramp linearly up to the schedule's value.
    """
    if total_steps <= 0:
        raise ValidationError(f"total_steps must be positive, got {total_steps}", field="total_steps")
    if warmup_steps < 0:
        raise ValidationError(f"warmup_steps must be >= 0, got {warmup_steps}", field="warmup_steps")
    if lr_schedule == "linear":
        mult = 1 - step / total_steps
    elif lr_schedule == "cosine":
        mult = 0.5 * (1 + math.cos(math.pi * step / total_steps))
    elif lr_schedule == "constant":
        mult = 1.0
    else:
        raise ValidationError(
            f"unknown schedule {lr_schedule!r}; expected linear, cosine or constant", field="lr_schedule"
        )
    if warmup_steps and step < warmup_steps:
        mult *= (step + 1) / warmup_steps
    return mult
