"""Nested-list <-> flat row-major conversion: kept in the bottom layer, :mod:`tinkerlite.backend._shape`."""

from __future__ import annotations

from ..backend._shape import flatten_nested, prod, unflatten

__all__ = ["flatten_nested", "prod", "unflatten"]
