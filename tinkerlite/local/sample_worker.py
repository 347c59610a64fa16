"""A sampling worker process (``python -m tinkerlite.local.sample_worker``), driven by :mod:`.sample_procs`.

It reads length-prefixed pickled jobs ``(model_key, model or None, requests)`` on stdin and answers
``("ok", results)`` or ``("missing",)`` (the model was not sent and is not cached) on stdout. Results are
:class:`~tinkerlite.local.sampling.SampleResult` or None for a request the sampler rejected (the parent
runs those again itself, to raise the exact error). It keeps the last few models it was sent.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from collections import OrderedDict
from typing import IO, Any

__all__ = ["main", "read_frame", "write_frame"]

MODELS_KEPT = 4
_LEN = struct.Struct("<Q")


def write_frame(out: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LEN.pack(len(data)))
    out.write(data)
    out.flush()


def read_frame(inp: IO[bytes]) -> Any:
    """The next object, or None at end of stream."""
    head = inp.read(_LEN.size)
    if len(head) < _LEN.size:
        return None
    (n,) = _LEN.unpack(head)
    data = inp.read(n)
    if len(data) < n:
        return None
    return pickle.loads(data)


def main() -> int:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # before numpy loads: one BLAS thread per process, as in the server
    from .sampling import SampleResult, sample_group

    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write to the protocol stream
    models: OrderedDict[str, Any] = OrderedDict()
    write_frame(out, ("ready",))
    while True:
        job = read_frame(inp)
        if job is None:
            return 0
        key, model, requests = job
        if model is not None:
            models[key] = model
        elif key not in models:
            write_frame(out, ("missing",))
            continue
        models.move_to_end(key)
        while len(models) > MODELS_KEPT:
            models.popitem(last=False)
        results = sample_group(models[key], requests)
        write_frame(out, ("ok", [r if isinstance(r, SampleResult) else None for r in results]))


if __name__ == "__main__":
    raise SystemExit(main())
