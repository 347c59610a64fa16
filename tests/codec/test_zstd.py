"""zstd bodies: round trip, multi-frame, truncation, corruption, the output cap, and the missing-extra error."""

from __future__ import annotations

import os
import time

import pytest

from tinkerlite.codec import zstd
from tinkerlite.errors import MissingExtraError, ProtocolError

zstandard = pytest.importorskip("zstandard")  # the test extra installs it; the no-zstd path is tested below


def test_round_trip_and_official_level() -> None:
    body = os.urandom(1000) + b"tokens " * 50_000
    packed = zstd.compress(body)
    assert len(packed) < len(body) // 10
    assert zstd.decompress(packed) == body
    # the official SDK compresses with zstandard.ZstdCompressor() defaults (level 3)
    assert packed == zstandard.ZstdCompressor().compress(body)
    assert zstd.decompress(zstandard.ZstdCompressor(level=19).compress(body)) == body


def test_concatenated_frames_and_empty() -> None:
    a, b = b"first frame " * 1000, b"second"
    assert zstd.decompress(zstd.compress(a) + zstd.compress(b)) == a + b
    assert zstd.decompress(zstd.compress(b"")) == b""
    assert zstd.decompress(b"") == b""


@pytest.mark.parametrize("cut", [1, 5, 20, -1])
def test_truncated_frames_are_errors(cut: int) -> None:
    packed = zstd.compress(os.urandom(5000) * 3)
    with pytest.raises(ProtocolError):
        zstd.decompress(packed[:cut])


def test_garbage_is_an_error() -> None:
    with pytest.raises(ProtocolError, match="corrupt"):
        zstd.decompress(b"definitely not zstd")
    with pytest.raises(ProtocolError, match="corrupt"):
        zstd.decompress(zstd.compress(b"ok") + b"trailing junk")


def test_output_cap_stops_a_bomb_early() -> None:
    bomb = zstd.compress(bytes(32 * 1024 * 1024)) * 32  # 1 GiB of zeros in a few KiB
    assert len(bomb) < 100_000
    start = time.perf_counter()
    with pytest.raises(ProtocolError, match="more than 1048576 bytes"):
        zstd.decompress(bomb, max_output=1 << 20)
    assert time.perf_counter() - start < 1.0
    assert zstd.decompress(zstd.compress(bytes(1 << 20)), max_output=1 << 20) == bytes(1 << 20)
    with pytest.raises(ProtocolError):
        zstd.decompress(zstd.compress(bytes((1 << 20) + 1)), max_output=1 << 20)


def test_default_cap_is_64_mib() -> None:
    assert zstd.DEFAULT_MAX_OUTPUT == 64 * 1024 * 1024
    with pytest.raises(ProtocolError, match="67108864"):
        zstd.decompress(zstd.compress(bytes(64 * 1024 * 1024 + 1)))


def test_missing_extra_only_when_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zstd, "_stdlib", lambda: None)
    monkeypatch.setattr(zstd, "_zstandard", lambda: None)
    assert zstd.backend_name() is None
    with pytest.raises(MissingExtraError, match=r"tinkerlite\[zstd\]"):
        zstd.compress(b"x")
    with pytest.raises(MissingExtraError, match="zstd"):
        zstd.decompress(b"x")


def test_import_does_not_need_zstd() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['zstandard'] = None; sys.modules['compression.zstd'] = None\n"
        "import tinkerlite.codec.zstd as z\n"
        "try:\n    z.compress(b'x')\nexcept Exception as e:\n    print(type(e).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "MissingExtraError"
