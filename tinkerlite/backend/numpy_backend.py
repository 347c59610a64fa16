"""The numpy backend: same contract as :mod:`.pure`, vectorised. Imported only when numpy is wanted."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .._optional import require
from .base import Dtype, Vec

np = require("numpy", "the numpy backend (TINKERLITE_BACKEND=numpy)")

_NP = {"int64": np.int64, "int32": np.int32, "float32": np.float32, "float64": np.float64}
_LE = {"int64": "<i8", "int32": "<i4", "float32": "<f4", "float64": "<f8"}


class NumpyBackend:
    name = "numpy"

    def asarray(self, values: Sequence[float] | Vec, dtype: Dtype = "float64") -> Vec:
        return np.asarray(values, dtype=_NP[dtype])

    def tolist(self, v: Vec) -> list[Any]:
        return np.asarray(v).tolist()  # type: ignore[no-any-return]

    def from_bytes(self, buf: bytes | bytearray | memoryview, dtype: Dtype) -> Vec:
        return np.frombuffer(buf, dtype=_LE[dtype]).astype(_NP[dtype], copy=False)

    def to_bytes(self, v: Vec, dtype: Dtype) -> bytes:
        out: bytes = np.ascontiguousarray(v, dtype=_LE[dtype]).tobytes()
        return out

    def cast(self, v: Vec, dtype: Dtype) -> Vec:
        return np.asarray(v).astype(_NP[dtype])

    def zeros(self, n: int, dtype: Dtype = "float64") -> Vec:
        return np.zeros(n, dtype=_NP[dtype])

    def full(self, n: int, value: float, dtype: Dtype = "float64") -> Vec:
        return np.full(n, value, dtype=_NP[dtype])

    def length(self, v: Vec) -> int:
        return int(np.asarray(v).shape[0])

    def flatten(self, nested: Any) -> tuple[Vec, list[int]]:
        from ._shape import flatten_nested

        flat, shape = flatten_nested(nested, "value")
        return np.asarray(flat), shape

    def reshape(self, flat: Vec, shape: Sequence[int]) -> Any:
        return np.asarray(flat).reshape(list(shape))

    def concat(self, parts: Sequence[Vec]) -> Vec:
        if not parts:
            return np.zeros(0)
        return np.concatenate([np.asarray(p) for p in parts])

    def stack(self, rows: Sequence[Vec]) -> Any:
        return np.stack([np.asarray(r) for r in rows])

    def add(self, a: Vec, b: Vec | float) -> Vec:
        return np.asarray(a, dtype=np.float64) + np.asarray(b, dtype=np.float64)

    def sub(self, a: Vec, b: Vec | float) -> Vec:
        return np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)

    def mul(self, a: Vec, b: Vec | float) -> Vec:
        return np.asarray(a, dtype=np.float64) * np.asarray(b, dtype=np.float64)

    def div(self, a: Vec, b: Vec | float) -> Vec:
        return np.asarray(a, dtype=np.float64) / np.asarray(b, dtype=np.float64)

    def exp(self, a: Vec) -> Vec:
        with np.errstate(over="ignore"):
            return np.exp(np.asarray(a, dtype=np.float64))

    def log(self, a: Vec) -> Vec:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(np.asarray(a, dtype=np.float64))

    def log_sigmoid(self, a: Vec) -> Vec:
        x = np.asarray(a, dtype=np.float64)
        return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))

    def sigmoid(self, a: Vec) -> Vec:
        x = np.asarray(a, dtype=np.float64)
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def clip(self, a: Vec, lo: float, hi: float) -> Vec:
        return np.clip(np.asarray(a, dtype=np.float64), lo, hi)

    def sum(self, a: Vec) -> float:
        return float(np.sum(np.asarray(a, dtype=np.float64)))

    def mean(self, a: Vec) -> float:
        n = len(a)
        return self.sum(a) / n if n else math.nan

    def dot(self, a: Vec, b: Vec) -> float:
        x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if x.shape != y.shape:
            raise ValueError(f"length mismatch: {x.shape[0]} vs {y.shape[0]}")
        return float(np.dot(x, y))

    def std(self, a: Vec) -> float:
        return float(np.std(np.asarray(a, dtype=np.float64))) if len(a) else math.nan

    def max(self, a: Vec) -> float:
        return float(np.max(a))

    def min(self, a: Vec) -> float:
        return float(np.min(a))

    def discounted_cumsum(self, a: Vec, gamma: float) -> Vec:
        x = np.asarray(a, dtype=np.float64)
        out = np.empty_like(x)
        acc = 0.0
        # A Python loop over T is what every exact implementation does; T is a trajectory length.
        for t in range(x.shape[0] - 1, -1, -1):
            acc = x[t] + gamma * acc
            out[t] = acc
        return out
