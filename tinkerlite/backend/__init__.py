"""One numeric interface, two implementations: stdlib lists (``pure``) and numpy (``numpy``).

Everything in tinkerlite that does arithmetic on tensors (TensorData conversion, advantages, NLL, DPO)
goes through :func:`get_backend`, so the pure and numpy paths cannot drift apart and the tests can run
the whole suite under each. ``TINKERLITE_BACKEND=pure|numpy|auto`` picks one (auto: numpy if
importable). Vectors are 1-D and float64 inside the math (float32 only at the wire), which is why
the two backends agree to float32 rounding.
"""

from __future__ import annotations

import os
from typing import Literal

from .base import Backend, Dtype, Vec
from .pure import PureBackend

__all__ = ["Backend", "Dtype", "Vec", "available_backends", "get_backend", "set_backend"]

BackendName = Literal["pure", "numpy", "auto"]

_current: Backend | None = None


def _make(name: str) -> Backend:
    if name == "pure":
        return PureBackend()
    if name == "numpy":
        from .numpy_backend import NumpyBackend  # lazy: numpy is optional

        return NumpyBackend()
    if name == "auto":
        try:
            return _make("numpy")
        except ImportError:
            return PureBackend()
    raise ValueError(f"TINKERLITE_BACKEND must be one of pure, numpy, auto; got {name!r}")


def get_backend() -> Backend:
    """The process-wide backend, chosen from ``TINKERLITE_BACKEND`` on first use."""
    global _current
    if _current is None:
        _current = _make(os.environ.get("TINKERLITE_BACKEND", "auto").strip().lower() or "auto")
    return _current


def set_backend(name: BackendName | str) -> Backend:
    """Switch backends (tests and benchmarks); returns the new one."""
    global _current
    _current = _make(name)
    return _current


def available_backends() -> list[str]:
    names = ["pure"]
    try:
        _make("numpy")
        names.append("numpy")
    except ImportError:
        pass
    return names
