"""Bytes for a model's ``state_dict``: an uncompressed ``.npz`` archive, read back without pickle.

A checkpoint is whatever :meth:`TinyTransformer.state_dict` returns plus a ``format.version`` entry;
arrays keep their dtype and shape exactly, so a reload continues training bit for bit. ``.npz`` is
chosen because numpy (the local extra) reads and writes it with no further dependency and because any
numpy user can open one to look inside.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from typing import Any, TypeAlias

from tinkerlite._optional import require
from tinkerlite.errors import ValidationError

np = require("numpy", "the local server's checkpoints", extra="local")

Array: TypeAlias = Any  # numpy.ndarray (numpy is an optional extra)

__all__ = ["FORMAT_VERSION", "dumps", "loads"]

FORMAT_VERSION = 1


def dumps(state: Mapping[str, Array]) -> bytes:
    """Serialise a state dict (names must not contain '/')."""
    if "format.version" in state:
        raise ValidationError("'format.version' is reserved", field="state")
    for key in state:
        if "/" in key or not key:
            raise ValidationError(f"bad array name {key!r}", field="state")
    buf = io.BytesIO()
    arrays = {key: np.asarray(value) for key, value in state.items()}
    np.savez(buf, **arrays, **{"format.version": np.asarray(FORMAT_VERSION, dtype=np.int64)})
    return buf.getvalue()


def loads(data: bytes) -> dict[str, Array]:
    """Parse :func:`dumps`' output; anything else raises :class:`ValidationError`."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            state = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ValidationError(f"not a tinkerlite checkpoint: {exc}", field="checkpoint") from exc
    version = state.pop("format.version", None)
    if version is None or version.shape != () or int(version) != FORMAT_VERSION:
        raise ValidationError(f"unsupported checkpoint format version {version!r}", field="checkpoint")
    return state
