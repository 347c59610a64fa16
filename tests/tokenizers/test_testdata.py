"""The shared test-data fetcher: table extraction from a binary blob, and skip-vs-fail policy."""

from __future__ import annotations

import gzip

import pytest

from tests import testdata as td
from tests.tokenizers.conftest import tiny_tiktoken_bytes


def test_tables_found_in_a_binary_blob_plain_and_gzip() -> None:
    table = tiny_tiktoken_bytes()
    other = b"IQ== 3\nIg== 4\n"  # a table that starts above rank 0 (like DeepSeek's)
    blob = b"\x00\x7fELF junk end" + table + b"<|image_pad|>\x00" + gzip.compress(other) + b"\x00tail"
    found = list(td._tables_in_blob(blob))
    assert table in found  # the 'end' letters before 'AA== 0' are not taken as part of the first line
    assert other in found


def test_need_skips_locally_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable() -> None:
        raise td.TestDataUnavailable("registry unreachable")

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"python -m tests\.testdata"):
        td.need(unavailable)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="registry unreachable"):
        td.need(unavailable)


def test_cache_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("TINKERLITE_TESTDATA", str(tmp_path))
    assert str(td.data_dir()) == str(tmp_path)
    with pytest.raises(ValueError, match="unknown family"):
        td.tokenizer_dir("gpt2")
