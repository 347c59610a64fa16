"""§1: base URL and credential precedence, headers, redaction."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tinkerlite._exceptions import TinkerError
from tinkerlite.client import headers as hdr
from tinkerlite.client.config import (
    DEFAULT_BASE_URL,
    ClientConfig,
    resolve_base_url,
    resolve_credential,
    resolve_unreachable_timeout,
    tags_from_env,
)


def test_base_url_precedence() -> None:
    assert resolve_base_url("http://a/x/", {"TINKER_BASE_URL": "http://b"}).url == "http://a/x"
    b = resolve_base_url(None, {"TINKER_BASE_URL": "http://b/pre/"})
    assert (b.url, b.source) == ("http://b/pre", "TINKER_BASE_URL")
    d = resolve_base_url("", {"TINKER_BASE_URL": ""})
    assert (d.url, d.source) == (DEFAULT_BASE_URL, "default")


def _store(tmp_path: Path, key: str) -> Path:
    p = tmp_path / "credentials.json"
    p.write_text(
        json.dumps({"version": 1, "default": "k1", "keys": {"k1": {"type": "manual", "key": key, "name": "k1"}}})
    )
    return p


def test_credential_precedence(tmp_path: Path) -> None:
    store = _store(tmp_path, "tml-stored")
    env = {"TINKER_API_KEY": "tml-env", "TINKER_CREDENTIAL_CMD": "echo tml-cmd"}
    c = resolve_credential("tml-arg", env, store)
    assert (c.get(), c.source) == ("tml-arg", "the api_key argument")
    c = resolve_credential(None, env, store)
    assert (c.get(), c.source) == ("tml-env", "TINKER_API_KEY")
    c = resolve_credential(None, {"TINKER_CREDENTIAL_CMD": "echo tml-cmd"}, store)
    assert (c.get(), c.source) == ("tml-cmd", "TINKER_CREDENTIAL_CMD")
    c = resolve_credential(None, {}, store)
    assert c.get() == "tml-stored" and str(store) in c.source
    with pytest.raises(TinkerError, match="No Tinker credential"):
        resolve_credential(None, {}, tmp_path / "missing.json")


def test_bad_prefix(tmp_path: Path) -> None:
    with pytest.raises(TinkerError, match="tml-"):
        resolve_credential("sk-nope", {}, tmp_path / "x")
    # falls back to the credential command when one is set, as 0.38 does
    c = resolve_credential("sk-nope", {"TINKER_CREDENTIAL_CMD": "echo tml-x"}, tmp_path / "x")
    assert c.source == "TINKER_CREDENTIAL_CMD"
    jwt = resolve_credential("eyJabc", {}, tmp_path / "x")
    assert jwt.get() == "eyJabc"


def test_credential_never_shown() -> None:
    c = resolve_credential("tml-SECRET", {}, None)
    assert "SECRET" not in repr(c) and "SECRET" not in str(c)
    assert "SECRET" not in f"{c}"


def test_failing_credential_cmd_does_not_leak_output() -> None:
    c = resolve_credential(None, {"TINKER_CREDENTIAL_CMD": f"{sys.executable} -c 'print(\"tml-LEAK\"); exit(3)'"}, None)
    with pytest.raises(TinkerError) as ei:
        c.get()
    assert "LEAK" not in str(ei.value) and "status 3" in str(ei.value)


def test_unreachable_timeout_resolution() -> None:
    assert resolve_unreachable_timeout(None, {}) == 25.0
    assert resolve_unreachable_timeout(None, {"TINKERLITE_UNREACHABLE_TIMEOUT": "300"}) == 300.0
    assert resolve_unreachable_timeout(2, {"TINKERLITE_UNREACHABLE_TIMEOUT": "300"}) == 2.0
    with pytest.raises(TinkerError):
        resolve_unreachable_timeout(None, {"TINKERLITE_UNREACHABLE_TIMEOUT": "soon"})


def test_client_config_defaults_and_unknown_fields() -> None:
    c = ClientConfig.from_json(
        {"fwdbwd_max_chunk_len": 3, "parallel_fwdbwd_chunks": False, "new_flag": 1, "pjwt_auth_enabled": None}
    )
    assert c.fwdbwd_max_chunk_len == 3 and c.parallel_fwdbwd_chunks is False
    assert c.fwdbwd_max_chunk_bytes_count == 5_000_000 and c.pjwt_auth_enabled is False
    assert not hasattr(c, "new_flag")


def test_tags_from_env() -> None:
    assert tags_from_env({"TINKER_TAGS": "a, b,,c"}) == ["a", "b", "c"]
    assert tags_from_env({}) == []


def test_headers() -> None:
    base = hdr.default_headers(
        {"CLOUDFLARE_ACCESS_CLIENT_ID": "id", "CLOUDFLARE_ACCESS_CLIENT_SECRET": "s"}, {"X-Extra": "1"}
    )
    assert base["Accept"] == "application/json" and base["Content-Type"] == "application/json"
    assert base["User-Agent"].startswith("AsyncTinker/Python 0.38.0")
    assert base["x-sdk-version"] == "0.38.0"
    assert base["CF-Access-Client-Id"] == "id" and base["X-Extra"] == "1"
    post = hdr.call_headers(method="POST", idempotency_key="k", retry_count=2, read_timeout=60.0, sdk_method="A.b")
    assert post == {
        "x-stainless-retry-count": "2",
        "x-stainless-read-timeout": "60",
        "X-Idempotency-Key": "k",
        "x-sdk-method": "A.b",
    }
    get = hdr.call_headers(method="GET", idempotency_key="k", retry_count=0, read_timeout=45)
    assert "X-Idempotency-Key" not in get
    assert hdr.new_idempotency_key().startswith("stainless-python-retry-")
    assert hdr.new_idempotency_key() != hdr.new_idempotency_key()
    red = hdr.redact({"X-API-Key": "tml-x", "CF-Access-Client-Secret": "s", "Accept": "a"})
    assert red == {"X-API-Key": "<redacted>", "CF-Access-Client-Secret": "<redacted>", "Accept": "a"}
