"""``python -m tinkerlite`` with a crash injected at an exact point inside a checkpoint write.

A kill from outside cannot be timed to land inside a write of a few kilobytes, so this wrapper runs the
real CLI in-process and, on the ``nth`` write of a file whose name ends in ``suffix``, writes the first
half of it to the temporary file that :func:`tinkerlite.utils.files.atomic_write_bytes` would use, then
sends itself ``signal`` (``KILL``: the process dies there; ``INT``: Ctrl-C arrives while the server's
worker thread is still writing, which then finishes). ``TL_CRASH`` is JSON:
``{"suffix": ".npz", "nth": 2, "signal": "KILL"}``. Only used by the kill/resume tests.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path


def _install(spec: dict[str, object]) -> None:
    from tinkerlite.local import store
    from tinkerlite.utils.files import atomic_write_bytes

    suffix, nth, sig = str(spec["suffix"]), int(str(spec["nth"])), str(spec["signal"])
    seen = [0]

    def crashing_write(path: str | os.PathLike[str], data: bytes) -> None:
        p = Path(path)
        if p.name.endswith(suffix) and "weights" in p.parts[-2]:
            seen[0] += 1
            if seen[0] == nth:
                p.parent.mkdir(parents=True, exist_ok=True)
                fd, _ = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
                os.write(fd, data[: len(data) // 2])
                os.fsync(fd)
                if sig == "KILL":
                    os.kill(os.getpid(), signal.SIGKILL)
                os.close(fd)
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.5)  # the main thread takes the interrupt while this save is still unfinished
        atomic_write_bytes(path, data)

    store.Store._atomic_write = staticmethod(crashing_write)  # type: ignore[method-assign]


if __name__ == "__main__":
    _install(json.loads(os.environ["TL_CRASH"]))
    from tinkerlite.__main__ import main

    sys.exit(main(sys.argv[1:]))
