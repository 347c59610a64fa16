"""The Unicode range tables: cached atomically per Unicode version, rebuilt when the cache is unusable."""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from tinkerlite.tokenizers.pure import _unicode


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TINKERLITE_CACHE_DIR", str(tmp_path))
    _unicode.clear_memo()
    yield tmp_path
    _unicode.clear_memo()


def test_cold_build_writes_cache_and_warm_load_is_fast(cache_dir: Path) -> None:
    path = _unicode.cache_path()
    assert path.parent == cache_dir and unicodedata.unidata_version in path.name
    built = _unicode.load_tables()
    assert path.is_file()
    assert not list(cache_dir.glob("*.tmp"))  # written via a temp file + os.replace
    _unicode.clear_memo()
    t0 = time.perf_counter()
    loaded = _unicode.load_tables()
    warm = time.perf_counter() - t0
    assert loaded == built
    assert warm < 0.5, f"loading cached tables took {warm:.2f} s"
    assert path.stat().st_size < 200_000


def test_tables_match_unicodedata(cache_dir: Path) -> None:
    tables = _unicode.load_tables()
    for cp in [0x41, 0x61, 0x1C5, 0x2B0, 0x4E00, 0x300, 0x660, 0x2160, 0x1F600, 0x10FFFF, 0x378]:
        cat = unicodedata.category(chr(cp))
        assert any(lo <= cp <= hi for lo, hi in tables[cat]), hex(cp)
        assert any(lo <= cp <= hi for lo, hi in tables[cat[0]]), hex(cp)
    covered = sum(hi - lo + 1 for k, v in tables.items() if len(k) == 2 for lo, hi in v)
    assert covered == 0x110000


def test_corrupt_or_foreign_cache_is_rebuilt(cache_dir: Path) -> None:
    path = _unicode.cache_path()
    path.write_text("{broken", encoding="utf-8")
    good = _unicode.load_tables()
    assert json.loads(path.read_text(encoding="utf-8"))["unidata_version"] == unicodedata.unidata_version
    _unicode.clear_memo()
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["unidata_version"] = "1.0.0"
    doc["tables"]["Lu"] = [65, 66]
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert _unicode.load_tables() == good


def test_unwritable_cache_is_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("TINKERLITE_CACHE_DIR", str(blocker / "sub"))
    _unicode.clear_memo()
    try:
        assert _unicode.load_tables()["Lu"]
    finally:
        _unicode.clear_memo()
