"""Hub client: pure protocol functions, then downloads against a loopback fake hub."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tokenizers.conftest import tiny_tiktoken_bytes
from tests.tokenizers.fake_hub import HubState, Repo, serve
from tinkerlite.errors import ProtocolError, ValidationError
from tinkerlite.tokenizers import get_tokenizer, loader
from tinkerlite.tokenizers.hub import (
    EntryNotFoundError,
    GatedRepoError,
    NotCachedError,
    RepoNotFoundError,
    RevisionNotFoundError,
    classify_response,
    normalize_etag,
    refs_path,
    repo_folder,
    resolve_url,
    settings_from_env,
    snapshot_path,
)
from tinkerlite.tokenizers.hub_download import hub_download
from tinkerlite.tokenizers.names import KIMI_TOKENIZER_REVISIONS, LLAMA3_TOKENIZER_REPO, hub_target_for_model

COMMIT = "1111111111111111111111111111111111111111"
COMMIT2 = "2222222222222222222222222222222222222222"

# ---------------------------------------------------------------- pure functions


def test_resolve_url_and_cache_paths() -> None:
    assert resolve_url("https://hf.co/", "org/name", "main", "tokenizer.json") == (
        "https://hf.co/org/name/resolve/main/tokenizer.json"
    )
    assert resolve_url("https://hf.co", "org/name", "refs/pr/1", "original/tokenizer.model") == (
        "https://hf.co/org/name/resolve/refs%2Fpr%2F1/original/tokenizer.model"
    )
    cache = Path("/c")
    assert repo_folder(cache, "org/name") == Path("/c/models--org--name")
    snap = snapshot_path(cache, "org/name", COMMIT, "a/b.json")
    assert snap == Path(f"/c/models--org--name/snapshots/{COMMIT}/a/b.json")
    assert refs_path(cache, "org/name", "main") == Path("/c/models--org--name/refs/main")
    for bad in ("../x", "org/../x", "a/b/c", ""):
        with pytest.raises(ValidationError):
            repo_folder(cache, bad)
    with pytest.raises(ValidationError):
        snapshot_path(cache, "org/name", COMMIT, "../../etc/passwd")


def test_settings_from_env_precedence() -> None:
    s = settings_from_env({"HF_HOME": "/h", "HF_TOKEN": " hf_sekrit ", "HF_HUB_OFFLINE": "1"})
    assert s.cache_dir == Path("/h/hub") and s.offline and s.token == "hf_sekrit"
    assert s.endpoint == "https://huggingface.co"
    assert "hf_sekrit" not in repr(s)
    s = settings_from_env({"HF_HOME": "/h", "HF_HUB_CACHE": "/x", "HF_ENDPOINT": "http://e/", "HF_HUB_OFFLINE": "0"})
    assert s.cache_dir == Path("/x") and not s.offline and s.endpoint == "http://e"
    assert settings_from_env({"XDG_CACHE_HOME": "/xdg"}).cache_dir == Path("/xdg/huggingface/hub")


def test_classify_response() -> None:
    kw = {"url": "https://hf.co/o/n/resolve/main/f", "repo_id": "o/n", "filename": "f", "revision": "main"}
    ok = classify_response(200, {"etag": '"abc"', "x-repo-commit": COMMIT, "content-length": "3"}, **kw)
    assert ok.kind == "found" and ok.metadata is not None
    assert (ok.metadata.etag, ok.metadata.commit, ok.metadata.size) == ("abc", COMMIT, 3)
    cdn = classify_response(
        302, {"Location": "https://cdn.x/blob", "X-Linked-Etag": '"' + "a" * 64 + '"', "X-Linked-Size": "9"}, **kw
    )
    assert cdn.kind == "found" and cdn.metadata is not None
    assert (cdn.metadata.location, cdn.metadata.etag, cdn.metadata.size) == ("https://cdn.x/blob", "a" * 64, 9)
    moved = classify_response(307, {"Location": "/o/m/resolve/main/f"}, **kw)
    assert moved.kind == "redirect" and moved.location == "https://hf.co/o/m/resolve/main/f"
    cases = [
        (404, {"X-Error-Code": "EntryNotFound"}, EntryNotFoundError),
        (404, {"X-Error-Code": "RevisionNotFound"}, RevisionNotFoundError),
        (401, {"X-Error-Code": "GatedRepo"}, GatedRepoError),
        (403, {}, GatedRepoError),
        (401, {"X-Error-Code": "RepoNotFound"}, RepoNotFoundError),
        (401, {}, RepoNotFoundError),
    ]
    for status, headers, exc in cases:
        out = classify_response(status, headers, **kw)
        assert out.kind == "error" and isinstance(out.error, exc), (status, headers)
    assert normalize_etag('W/"x"') == "x"


def test_cookbook_name_mapping() -> None:
    t = hub_target_for_model("meta-llama/Llama-3.1-8B-Instruct")
    assert (t.repo_id, t.revision) == (LLAMA3_TOKENIZER_REPO, "main")
    t = hub_target_for_model("moonshotai/Kimi-K2-Thinking:peft")
    assert (t.repo_id, t.revision) == ("moonshotai/Kimi-K2-Thinking", KIMI_TOKENIZER_REVISIONS[t.repo_id])
    assert hub_target_for_model("Qwen/Qwen3-8B", "v1").revision == "v1"
    with pytest.raises(ValidationError, match="tml-renderers"):
        hub_target_for_model("thinkingmachines/Inkling-2")


# ---------------------------------------------------------------- fake hub


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tiny_json: bytes) -> Iterator[HubState]:
    state = HubState()
    config = json.dumps({"bos_token": "<|bos|>", "eos_token": {"__type": "AddedToken", "content": "<|eos|>"}}).encode()
    files = {"tokenizer.json": tiny_json, "tokenizer_config.json": config}
    state.repos["org/tiny"] = Repo(COMMIT, files, {"tokenizer.json"})
    state.repos["org/gated"] = Repo(COMMIT2, {"tokenizer.json": tiny_json}, gated=True)
    with serve(state) as endpoint:
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        yield state


def _cache(tmp: Path) -> Path:
    return tmp / "hf_home" / "hub"


def test_download_lays_out_the_huggingface_hub_cache(hub: HubState, isolated_caches: Path) -> None:
    tok = get_tokenizer("org/tiny")
    assert tok.encode("hello world") == [259, 263]
    assert (tok.bos_token_id, tok.eos_token_id) == (264, 265)
    repo = _cache(isolated_caches) / "models--org--tiny"
    assert (repo / "refs" / "main").read_text() == COMMIT
    snap = repo / "snapshots" / COMMIT
    link = snap / "tokenizer.json"
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    sha = __import__("hashlib").sha256(hub.repos["org/tiny"].files["tokenizer.json"]).hexdigest()
    assert link.resolve() == (repo / "blobs" / sha).resolve()  # LFS blob named by its sha256
    assert (snap / "tokenizer_config.json").is_file()
    assert (repo / ".no_exist" / COMMIT / "special_tokens_map.json").exists()  # the 404 is remembered
    assert not list(repo.rglob("*.incomplete"))
    # LFS bytes came from the "CDN" host
    assert any(path.startswith("localhost:") and "/cdn/" in path for _, path, _ in hub.requests("GET"))


def test_cached_copy_is_reused_offline_and_for_pinned_commits(
    hub: HubState, monkeypatch: pytest.MonkeyPatch
) -> None:
    get_tokenizer("org/tiny")
    loader.clear_cache()
    hub.log.clear()
    assert get_tokenizer("org/tiny", revision=COMMIT).eos_token == "<|eos|>"
    assert hub.log == []  # a pinned commit in the cache costs no request, even online
    loader.clear_cache()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert get_tokenizer("org/tiny").encode("hello") == [259]
    assert hub.log == []
    with pytest.raises(NotCachedError, match="HF_HUB_OFFLINE"):
        get_tokenizer("org/gated")


def test_branch_revision_checks_the_hub_but_does_not_redownload(hub: HubState) -> None:
    get_tokenizer("org/tiny")
    loader.clear_cache()
    hub.log.clear()
    get_tokenizer("org/tiny")
    assert hub.requests("GET") == []  # HEADs only: the snapshot already has the commit's files
    assert hub.requests("HEAD")


def test_gated_repo_needs_token_and_token_never_leaks(
    hub: HubState, monkeypatch: pytest.MonkeyPatch, isolated_caches: Path
) -> None:
    with pytest.raises(GatedRepoError, match="HF_TOKEN") as info:
        get_tokenizer("org/gated")
    monkeypatch.setenv("HF_TOKEN", "hf_wrong_value_987")
    with pytest.raises(GatedRepoError) as info:
        get_tokenizer("org/gated")
    assert "hf_wrong_value_987" not in str(info.value) and "hf_wrong_value_987" not in repr(info.value)
    monkeypatch.setenv("HF_TOKEN", hub.token)
    assert get_tokenizer("org/gated").encode("hello") == [259]
    assert any(auth == f"Bearer {hub.token}" for _, _, auth in hub.log)


def test_token_file_and_no_auth_to_cdn(hub: HubState, monkeypatch: pytest.MonkeyPatch, isolated_caches: Path) -> None:
    (isolated_caches / "hf_home").mkdir(parents=True, exist_ok=True)
    (isolated_caches / "hf_home" / "token").write_text(hub.token + "\n")
    hub.repos["org/gated"].lfs.add("tokenizer.json")
    assert get_tokenizer("org/gated").encode("hello") == [259]
    cdn = [(p, a) for _, p, a in hub.log if "/cdn/" in p]
    hub_side = [a for _, p, a in hub.log if "/cdn/" not in p]
    assert cdn and all(a is None for _, a in cdn)  # the bearer token is not sent to another host
    assert hub_side and all(a == f"Bearer {hub.token}" for a in hub_side)


def test_unknown_repo_missing_file_and_bad_revision(hub: HubState) -> None:
    with pytest.raises(RepoNotFoundError):
        get_tokenizer("org/nothing")
    with pytest.raises(EntryNotFoundError):
        hub_download("org/tiny", "nope.json")
    with pytest.raises(RevisionNotFoundError):
        hub_download("org/tiny", "tokenizer.json", "v9")


def test_renamed_repo_relative_redirect_is_followed(hub: HubState) -> None:
    hub.renamed["org/old-name"] = "org/tiny"
    assert get_tokenizer("org/old-name").encode("hello") == [259]


def test_interrupted_download_leaves_no_partial_file(hub: HubState, isolated_caches: Path) -> None:
    hub.truncate.add("tokenizer.json")
    with pytest.raises((ProtocolError, OSError)):
        hub_download("org/tiny", "tokenizer.json")
    repo = _cache(isolated_caches) / "models--org--tiny"
    assert not list((repo / "blobs").iterdir())  # neither the blob nor its temp file
    assert not (repo / "snapshots" / COMMIT / "tokenizer.json").exists()
    hub.truncate.clear()
    assert hub_download("org/tiny", "tokenizer.json").read_bytes() == hub.repos["org/tiny"].files["tokenizer.json"]


def test_corrupt_download_is_rejected_by_sha256(hub: HubState, isolated_caches: Path) -> None:
    hub.corrupt.add("tokenizer.json")
    with pytest.raises(ProtocolError, match="sha256"):
        hub_download("org/tiny", "tokenizer.json")
    assert not list((_cache(isolated_caches) / "models--org--tiny" / "blobs").iterdir())


def test_unreachable_hub_falls_back_to_cache(hub: HubState, monkeypatch: pytest.MonkeyPatch) -> None:
    hub_download("org/tiny", "tokenizer.json")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("HF_ENDPOINT", dead)
    with pytest.warns(UserWarning, match="unreachable"):
        assert hub_download("org/tiny", "tokenizer.json").is_file()
    with pytest.raises(NotCachedError, match="cannot reach"):
        hub_download("org/gated", "tokenizer.json")


def test_cookbook_names_hit_mirror_and_pinned_kimi_revision(hub: HubState, tiny_json: bytes) -> None:
    hub.repos[LLAMA3_TOKENIZER_REPO] = Repo(COMMIT, {"tokenizer.json": tiny_json})
    assert get_tokenizer("meta-llama/Llama-3.1-8B-Instruct").encode("hello") == [259]
    assert all(LLAMA3_TOKENIZER_REPO in p for _, p, _ in hub.log if "/resolve/" in p)
    kimi_rev = KIMI_TOKENIZER_REVISIONS["moonshotai/Kimi-K2-Thinking"]
    hub.repos["moonshotai/Kimi-K2-Thinking"] = Repo(
        kimi_rev,
        {
            "tiktoken.model": tiny_tiktoken_bytes(),
            "tokenizer_config.json": json.dumps(
                {"added_tokens_decoder": {"265": {"content": "[EOS]", "special": True}}, "eos_token": "[EOS]"}
            ).encode(),
        },
        {"tiktoken.model"},
    )
    hub.log.clear()
    with pytest.warns(UserWarning, match="not a known release"):
        tok = get_tokenizer("moonshotai/Kimi-K2-Thinking")
    assert tok.encode("hello world[EOS]") == [259, 263, 265] and tok.eos_token_id == 265
    resolved = [p for _, p, _ in hub.log if "/resolve/" in p]
    assert resolved and all(f"/resolve/{kimi_rev}/" in p for p in resolved)
    assert any(p.endswith("/tokenizer.json") for p in resolved)  # tried first, 404, then tiktoken.model
