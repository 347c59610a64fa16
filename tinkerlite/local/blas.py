"""Limit the BLAS thread pool numpy already loaded (best effort, no dependency).

The local model multiplies small matrices; a multi-threaded OpenBLAS mostly spins, and on a shared
machine one forward_backward went from 0.1 s (one thread) to 3 s (default pool). Environment
variables only work before numpy is imported, so this finds the loaded OpenBLAS (numpy's wheel bundles
``scipy_openblas``) in ``/proc/self/maps`` and calls its ``set_num_threads``, as threadpoolctl does.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["limit_blas_threads"]

_SYMBOLS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)


def _loaded_openblas() -> list[str]:
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:
        return []
    return sorted(paths)


def limit_blas_threads(n: int = 1) -> bool:
    """Set the OpenBLAS pool of this process to ``n`` threads; True if a library was found and set."""
    if "numpy" not in sys.modules:
        import os

        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, str(n))
        return True
    done = False
    for path in _loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SYMBOLS:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int]
                fn.restype = None
                fn(n)
                done = True
                break
    return done
