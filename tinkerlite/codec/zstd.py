"""zstd for ``Content-Encoding: zstd`` bodies: ``compression.zstd`` (Python 3.14+) or ``zstandard``.

Neither is needed until something is actually compressed or decompressed; then a missing one is a
:class:`~tinkerlite.errors.MissingExtraError` naming the ``zstd`` extra. Decompression is streamed in
pieces and stops as soon as the output passes ``max_output`` (a ProtocolError), so a small hostile
frame cannot expand into gigabytes of memory.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import MissingExtraError, ProtocolError

__all__ = ["DEFAULT_LEVEL", "DEFAULT_MAX_OUTPUT", "backend_name", "compress", "decompress"]

DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024
#: zstandard's own default, which is what the official SDK compresses with.
DEFAULT_LEVEL = 3
_PIECE = 1 << 20


def _stdlib() -> Any:
    try:
        return importlib.import_module("compression.zstd")
    except ImportError:
        return None


def _zstandard() -> Any:
    try:
        return importlib.import_module("zstandard")
    except ImportError:
        return None


def backend_name() -> str | None:
    """Which implementation would be used: ``"compression.zstd"``, ``"zstandard"`` or None."""
    if _stdlib() is not None:
        return "compression.zstd"
    if _zstandard() is not None:
        return "zstandard"
    return None


def _missing(feature: str) -> MissingExtraError:
    return MissingExtraError("zstandard", "zstd", feature)


def compress(data: bytes | bytearray | memoryview, level: int = DEFAULT_LEVEL) -> bytes:
    std = _stdlib()
    if std is not None:
        return bytes(std.compress(bytes(data), level=level))
    zs = _zstandard()
    if zs is None:
        raise _missing("zstd compression of request bodies")
    return bytes(zs.ZstdCompressor(level=level).compress(bytes(data)))


def decompress(data: bytes | bytearray | memoryview, max_output: int = DEFAULT_MAX_OUTPUT) -> bytes:
    """Decompress one or more concatenated frames; ProtocolError when corrupt, truncated or too large."""
    std = _stdlib()
    if std is not None:
        return _decompress_stdlib(std, bytes(data), max_output)
    zs = _zstandard()
    if zs is None:
        raise _missing("zstd decompression of request bodies")
    return _decompress_zstandard(zs, bytes(data), max_output)


def _too_big(max_output: int) -> ProtocolError:
    return ProtocolError(f"zstd body decompresses to more than {max_output} bytes")


def _decompress_zstandard(zs: Any, data: bytes, max_output: int) -> bytes:
    # decompressobj returns everything a piece of input expands to, so the input is fed in pieces
    # small enough that even zstd's best case (~32768:1 for RLE blocks) stays within the budget.
    dctx = zs.ZstdDecompressor()
    out = bytearray()
    pos, n = 0, len(data)
    obj = dctx.decompressobj()
    fed = False
    try:
        while pos < n:
            step = max(8, (max_output - len(out)) >> 16)
            piece = data[pos : pos + step]
            pos += len(piece)
            fed = True
            out += obj.decompress(piece)
            if len(out) > max_output:
                raise _too_big(max_output)
            if obj.eof:  # next frame (if any) starts in the unused tail
                pos -= len(obj.unused_data)
                obj = dctx.decompressobj()
                fed = False
    except zs.ZstdError as exc:
        raise ProtocolError(f"corrupt zstd body: {exc}") from exc
    if fed:
        raise ProtocolError("truncated zstd body (the last frame does not end)")
    return bytes(out)


def _decompress_stdlib(std: Any, data: bytes, max_output: int) -> bytes:  # pragma: no cover - Python 3.14+
    out = bytearray()
    try:
        while data:
            d = std.ZstdDecompressor()
            chunk = d.decompress(data, max_length=_PIECE)
            while True:
                out += chunk
                if len(out) > max_output:
                    raise _too_big(max_output)
                if d.eof:
                    break
                if d.needs_input:
                    raise ProtocolError("truncated zstd body")
                chunk = d.decompress(b"", max_length=_PIECE)
            data = d.unused_data
    except std.ZstdError as exc:
        raise ProtocolError(f"corrupt zstd body: {exc}") from exc
    return bytes(out)
