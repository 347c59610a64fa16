"""Nested-list <-> flat row-major conversion with errors that say where the raggedness is.

It lives in the backend, the bottom layer, because both the backends (``flatten``/``reshape``) and the wire
types (:mod:`tinkerlite.types.tensor_data`) need it; ``tinkerlite.types._shape`` re-exports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ValidationError

_SEQ = (list, tuple)


def flatten_nested(value: Any, field: str) -> tuple[list[Any], list[int]]:
    """Flatten a rectangular nested list; returns (flat values, shape)."""
    if not isinstance(value, _SEQ):
        raise ValidationError(f"expected a list of numbers, got {type(value).__name__}", field=field)
    if not value or not isinstance(value[0], _SEQ):
        for i, v in enumerate(value):
            if isinstance(v, _SEQ):
                raise ValidationError(f"ragged nested list: element {i} is a list but element 0 is not", field=field)
        return list(value), [len(value)]
    # 2-D and deeper: check every row has the same shape as the first.
    rows = [flatten_nested(row, f"{field}[{i}]") for i, row in enumerate(value)]
    inner = rows[0][1]
    flat: list[Any] = []
    for i, (row_flat, row_shape) in enumerate(rows):
        if row_shape != inner:
            raise ValidationError(f"ragged nested list: row {i} has shape {row_shape}, row 0 has {inner}", field=field)
        flat.extend(row_flat)
    return flat, [len(value), *inner]


def unflatten(flat: list[Any], shape: Sequence[int]) -> Any:
    """Inverse of :func:`flatten_nested` for a known shape (product must match)."""
    if len(shape) <= 1:
        return list(flat)
    step = 1
    for d in shape[1:]:
        step *= d
    return [unflatten(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def prod(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n
