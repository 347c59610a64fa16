"""Atomic file writes: a crash leaves either the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _read_umask() -> int:
    mask = os.umask(0o022)  # there is no read-only call; set and restore once, at import
    os.umask(mask)
    return mask


#: mkstemp creates 0600 files; written files get the mode ``open()`` would give them (0666 minus the umask).
FILE_MODE = 0o666 & ~_read_umask()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
        _fsync_dir(p.parent)  # the rename itself survives a power cut or reboot
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot fsync a directory; the file itself is already synced
        pass
    finally:
        os.close(fd)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n").encode("utf-8"))


def append_jsonl(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    """Append one line with ``write`` + fsync; a torn tail left by an earlier crash is cut off first.

    Without the cut, the new record would be glued onto the torn fragment and turn a harmless torn
    *last* line into a corrupt line in the middle of the file.
    """
    line = (json.dumps(record, allow_nan=True, default=str) + "\n").encode("utf-8")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)  # the umask applies, as for open()
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            _cut_torn_tail(fd, size)
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _cut_torn_tail(fd: int, size: int) -> None:
    """Truncate after the last newline (a partial record has no newline: it never completed)."""
    block = 4096
    end = size
    while end > 0:
        start = max(0, end - block)
        chunk = os.pread(fd, end - start, start)
        i = chunk.rfind(b"\n")
        if i >= 0:
            os.ftruncate(fd, start + i + 1)
            return
        end = start
    os.ftruncate(fd, 0)


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of a JSONL file; a torn last line (from a crash) is ignored, any other bad line raises."""
    p = Path(path)
    if not p.exists():
        return []
    lines = p.read_bytes().split(b"\n")
    rows: list[dict[str, Any]] = []
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            rows.append(json.loads(raw))
        except json.JSONDecodeError:
            if i == len(lines) - 1:  # no trailing newline: an interrupted append
                break
            raise
    return rows
