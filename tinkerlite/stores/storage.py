"""Byte-level storage for run data (the cookbook's ``stores.storage``).

``Storage`` / ``AsyncStorage`` are the protocols every store reads and writes through; ``LocalStorage`` is a
directory (atomic whole-file writes through :func:`tinkerlite.utils.files.atomic_write_bytes`, appends,
ranged reads, no path may escape the root); ``FsspecStorage`` puts the same layout on any fsspec
filesystem (``s3://``, ``gs://``, ``az://``, ``memory://``) when ``fsspec`` is installed (extra
``cloud``). Paths are relative POSIX strings joined with :func:`storage_join`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import posixpath
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .._optional import require
from ..utils.files import atomic_write_bytes

__all__ = [
    "AsyncStorage",
    "FsspecStorage",
    "LocalStorage",
    "Storage",
    "StorageStat",
    "storage_from_uri",
    "storage_join",
]

logger = logging.getLogger(__name__)


def _to_float_mtime(value: float | datetime) -> float:
    """Seconds since the epoch (object stores report ``datetime``)."""
    return float(value) if isinstance(value, (int, float)) else value.timestamp()


@dataclass(frozen=True)
class StorageStat:
    """File metadata."""

    size: int
    mtime: float


@runtime_checkable
class Storage(Protocol):
    """Synchronous byte storage addressed by relative paths (must pickle: keep config, not connections)."""

    def url(self, path: str = "") -> str:
        """A human-readable URI (``file:///...``, ``s3://...``)."""
        ...

    def read(self, path: str) -> bytes:
        """The whole file; ``FileNotFoundError`` if missing."""
        ...

    def write(self, path: str, data: bytes) -> None:
        """Replace the file (readers never see a partial one)."""
        ...

    def append(self, path: str, data: bytes) -> None:
        """Append (keep appends small; the last may be lost on a crash)."""
        ...

    def exists(self, path: str) -> bool: ...

    def stat(self, path: str) -> StorageStat | None:
        """Size and mtime, or None if missing."""
        ...

    def read_range(self, path: str, offset: int, length: int | None = None) -> bytes:
        """Bytes from ``offset`` (``length`` of them, or to the end)."""
        ...

    def list_dir(self, prefix: str) -> list[str]:
        """Names (not paths) directly under ``prefix``."""
        ...

    def remove(self, path: str) -> None: ...

    def remove_dir(self, path: str) -> None:
        """Remove an empty directory (a no-op where directories are not real)."""
        ...

    def flush(self) -> None:
        """Push buffered writes (a no-op for direct backends)."""
        ...

    def __enter__(self) -> Storage: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class AsyncStorage(Protocol):
    """The async counterpart of :class:`Storage`."""

    async def aread(self, path: str) -> bytes: ...

    async def awrite(self, path: str, data: bytes) -> None: ...

    async def aappend(self, path: str, data: bytes) -> None: ...

    async def aexists(self, path: str) -> bool: ...

    async def astat(self, path: str) -> StorageStat | None: ...

    async def aread_range(self, path: str, offset: int, length: int | None = None) -> bytes: ...

    async def alist_dir(self, prefix: str) -> list[str]: ...

    async def aremove(self, path: str) -> None: ...

    async def aremove_dir(self, path: str) -> None: ...

    async def __aenter__(self) -> AsyncStorage: ...

    async def __aexit__(self, *exc: object) -> None: ...


class _AsyncMixin:
    """Async methods as ``to_thread`` of the sync ones."""

    async def aread(self, path: str) -> bytes:
        return await asyncio.to_thread(self.read, path)  # type: ignore[attr-defined]

    async def awrite(self, path: str, data: bytes) -> None:
        await asyncio.to_thread(self.write, path, data)  # type: ignore[attr-defined]

    async def aappend(self, path: str, data: bytes) -> None:
        await asyncio.to_thread(self.append, path, data)  # type: ignore[attr-defined]

    async def aexists(self, path: str) -> bool:
        return await asyncio.to_thread(self.exists, path)  # type: ignore[attr-defined]

    async def astat(self, path: str) -> StorageStat | None:
        return await asyncio.to_thread(self.stat, path)  # type: ignore[attr-defined]

    async def aread_range(self, path: str, offset: int, length: int | None = None) -> bytes:
        return await asyncio.to_thread(self.read_range, path, offset, length)  # type: ignore[attr-defined]

    async def alist_dir(self, prefix: str) -> list[str]:
        return await asyncio.to_thread(self.list_dir, prefix)  # type: ignore[attr-defined]

    async def aremove(self, path: str) -> None:
        await asyncio.to_thread(self.remove, path)  # type: ignore[attr-defined]

    async def aremove_dir(self, path: str) -> None:
        await asyncio.to_thread(self.remove_dir, path)  # type: ignore[attr-defined]


class LocalStorage(_AsyncMixin):
    """Storage rooted at a local directory (sync and async; pickles as its root path)."""

    def __init__(self, root: str | Path, *, mkdir: bool = True) -> None:
        self._root = Path(root).expanduser().resolve()
        if mkdir:
            self._root.mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> Path:
        """The resolved root directory."""
        return self._root

    def url(self, path: str = "") -> str:
        return (self._root / path if path else self._root).as_uri()

    def _resolve(self, path: str) -> Path:
        resolved = (self._root / path).resolve()
        if not resolved.is_relative_to(self._root):
            raise ValueError(f"Path escapes storage root: {path}")
        return resolved

    def read(self, path: str) -> bytes:
        return self._resolve(path).read_bytes()

    def write(self, path: str, data: bytes) -> None:
        atomic_write_bytes(self._resolve(path), data)

    def append(self, path: str, data: bytes) -> None:
        full = self._resolve(path)
        full.parent.mkdir(parents=True, exist_ok=True)
        with open(full, "ab") as f:
            f.write(data)

    def exists(self, path: str) -> bool:
        return self._resolve(path).exists()

    def stat(self, path: str) -> StorageStat | None:
        try:
            st = self._resolve(path).stat()
        except FileNotFoundError:
            return None
        return StorageStat(size=st.st_size, mtime=st.st_mtime)

    def read_range(self, path: str, offset: int, length: int | None = None) -> bytes:
        with open(self._resolve(path), "rb") as f:
            f.seek(offset)
            return f.read(length) if length is not None else f.read()

    def list_dir(self, prefix: str) -> list[str]:
        full = self._resolve(prefix)
        return sorted(child.name for child in full.iterdir()) if full.is_dir() else []

    def remove(self, path: str) -> None:
        self._resolve(path).unlink(missing_ok=True)

    def remove_dir(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError, OSError):
            self._resolve(path).rmdir()

    def flush(self) -> None:
        pass

    def __enter__(self) -> LocalStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    async def __aenter__(self) -> LocalStorage:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass


class FsspecStorage(_AsyncMixin):
    """Storage on an fsspec filesystem under ``root`` (needs ``fsspec`` and the backend's package).

    Writes go straight to the filesystem (``pipe``); appends are read-modify-write, which the cookbook's
    contract allows (small appends, last may be lost on a crash).
    """

    def __init__(self, fs: Any, root: str = "", **fs_kwargs: Any) -> None:
        self._fs = fs
        self._root = root.rstrip("/")
        self._protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
        self._fs_kwargs = fs_kwargs

    def _full(self, path: str) -> str:
        return f"{self._root}/{path}".rstrip("/") if path else self._root

    def url(self, path: str = "") -> str:
        full = self._full(path)
        return full if "://" in full else f"{self._protocol}://{full.lstrip('/')}"

    def read(self, path: str) -> bytes:
        try:
            return bytes(self._fs.cat_file(self._full(path)))
        except FileNotFoundError:
            raise
        except OSError as e:
            if not self._fs.exists(self._full(path)):
                raise FileNotFoundError(path) from e
            raise

    def write(self, path: str, data: bytes) -> None:
        parent = posixpath.dirname(self._full(path))
        if parent:
            with contextlib.suppress(Exception):
                self._fs.makedirs(parent, exist_ok=True)
        self._fs.pipe_file(self._full(path), data)

    def append(self, path: str, data: bytes) -> None:
        try:
            old = self.read(path)
        except FileNotFoundError:
            old = b""
        self.write(path, old + data)

    def exists(self, path: str) -> bool:
        return bool(self._fs.exists(self._full(path)))

    def stat(self, path: str) -> StorageStat | None:
        try:
            info = self._fs.info(self._full(path))
        except FileNotFoundError:
            return None
        mtime = info.get("mtime", info.get("LastModified", info.get("updated", info.get("created", 0.0))))
        if isinstance(mtime, str):
            mtime = datetime.fromisoformat(mtime.replace("Z", "+00:00"))
        return StorageStat(size=int(info.get("size") or 0), mtime=_to_float_mtime(mtime or 0.0))

    def read_range(self, path: str, offset: int, length: int | None = None) -> bytes:
        if not self.exists(path):
            raise FileNotFoundError(path)
        end = None if length is None else offset + length
        return bytes(self._fs.cat_file(self._full(path), start=offset, end=end))

    def list_dir(self, prefix: str) -> list[str]:
        try:
            entries = self._fs.ls(self._full(prefix), detail=False)
        except FileNotFoundError:
            return []
        base = self._full(prefix).rstrip("/")
        names = {posixpath.basename(str(e).rstrip("/")) for e in entries if str(e).rstrip("/") != base}
        return sorted(n for n in names if n)

    def remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._fs.rm_file(self._full(path))

    def remove_dir(self, path: str) -> None:
        with contextlib.suppress(Exception):
            self._fs.rmdir(self._full(path))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        """Nothing is staged locally: a no-op kept for the cookbook's interface."""

    def __enter__(self) -> FsspecStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()

    async def __aenter__(self) -> FsspecStorage:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.flush()

    def __getstate__(self) -> dict[str, Any]:
        return {"protocol": self._protocol, "root": self._root, "fs_kwargs": self._fs_kwargs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        fsspec = require("fsspec", "FsspecStorage", "cloud")
        self._protocol, self._root, self._fs_kwargs = state["protocol"], state["root"], state["fs_kwargs"]
        self._fs = fsspec.filesystem(self._protocol, **self._fs_kwargs)


def storage_from_uri(uri: str, **kwargs: Any) -> Storage:
    """``/dir`` or ``file:///dir`` -> :class:`LocalStorage`; ``s3://``, ``gs://``, ``az://``, ... ->
    :class:`FsspecStorage` (``kwargs`` go to the fsspec filesystem)."""
    if uri.startswith("file://"):
        return LocalStorage(uri[len("file://") :])
    if "://" in uri:
        fsspec = require("fsspec", f"cloud storage URI {uri}", "cloud")
        fs, path = fsspec.core.url_to_fs(uri, **kwargs)
        return FsspecStorage(fs, path, **kwargs)
    return LocalStorage(uri)


def storage_join(*parts: str) -> str:
    """Join path segments (slashes stripped, empties dropped, normalised); ``""`` for nothing."""
    joined = "/".join(p for p in (s.strip("/") for s in parts) if p)
    return posixpath.normpath(joined) if joined else ""
