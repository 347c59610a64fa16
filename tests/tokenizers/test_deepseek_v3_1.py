"""DeepSeek V3.1: ``<think>``/``</think>`` are added tokens 128798/128799 (plain text in V3).

The design under test: tinkerlite loads every tokenizer file as published and never patches one because of a
model name. A V3.1 model name resolves to its own hub repo, whose ``tokenizer.json`` already carries the two
tokens; the pinned registry data only has V3's file, so the test data derives V3.1's from it
(``tests.testdata.derive_deepseek_v3_1``) and the renderer tests use that family.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import testdata as td
from tests.tokenizers.fake_hub import HubState, Repo, serve
from tinkerlite.tokenizers import get_tokenizer, load_tokenizer
from tinkerlite.tokenizers.names import hub_target_for_model

COMMIT = "3131313131313131313131313131313131313131"
V3_1_NAMES = ("deepseek-ai/DeepSeek-V3.1", "deepseek-ai/DeepSeek-V3.1-Base")
SAMPLES = [
    "Hello world",
    "<｜User｜>2+2?<｜Assistant｜>4<｜end▁of▁sentence｜>",
    "数学 123456 ½ émoji 🚀 <｜tool▁calls▁begin｜>",
    "  leading spaces\n\ttabs and <think-ish> text </thinking>",
]


def _v3_doc() -> dict[str, object]:
    doc: dict[str, object] = json.loads(td.need(td.tokenizer_json, "deepseek_v3").read_text(encoding="utf-8"))
    return doc


def _backends() -> list[str]:
    from tinkerlite.tokenizers.loader import _pure_module

    mod = _pure_module()
    return ["hf", "pure"] if mod is not None and hasattr(mod, "PureTokenizer") else ["hf"]


@pytest.fixture(scope="module")
def v3_1_dir() -> Path:
    return td.need(td.tokenizer_dir, "deepseek_v3_1")


def test_derivation_changes_exactly_the_two_placeholders() -> None:
    v3 = _v3_doc()
    v3_1 = td.derive_deepseek_v3_1(v3)
    assert v3 == _v3_doc()  # input untouched
    a = {t["id"]: t for t in v3["added_tokens"]}  # type: ignore[attr-defined]
    b = {t["id"]: t for t in v3_1["added_tokens"]}
    changed = {i for i in a if a[i] != b[i]}
    assert changed == set(td.DEEPSEEK_V3_1_THINK_TOKENS)
    for tid, content in td.DEEPSEEK_V3_1_THINK_TOKENS.items():
        assert a[tid]["content"] == f"<｜place▁holder▁no▁{tid - 128000}｜>"
        assert (b[tid]["content"], b[tid]["special"]) == (content, False)
    assert {k: v for k, v in v3.items() if k != "added_tokens"} == {
        k: v for k, v in v3_1.items() if k != "added_tokens"
    }
    assert td.derive_deepseek_v3_1(v3_1) == v3_1  # idempotent on V3.1's own file


def test_derivation_refuses_a_file_that_is_not_deepseek_v3() -> None:
    doc = _v3_doc()
    for tok in doc["added_tokens"]:  # type: ignore[attr-defined]
        if tok["id"] == 128798:
            tok["content"] = "<something_else>"
    with pytest.raises(ValueError, match="128798"):
        td.derive_deepseek_v3_1(doc)


@pytest.mark.parametrize("backend", _backends())
def test_v3_1_family_has_single_think_tokens_and_otherwise_encodes_like_v3(backend: str, v3_1_dir: Path) -> None:
    v3 = load_tokenizer(td.tokenizer_dir("deepseek_v3"), backend=backend)
    v3_1 = load_tokenizer(v3_1_dir, backend=backend)
    assert v3_1.encode("<think>") == [128798] and v3_1.encode("</think>") == [128799]
    assert len(v3.encode("<think>")) > 1  # plain text in V3
    assert v3_1.encode("<think>\nok</think>") == [128798, *v3.encode("\nok"), 128799]
    for text in SAMPLES:
        assert v3_1.encode(text) == v3.encode(text), text
    assert v3_1.decode([128798, 19923, 128799], skip_special_tokens=True) == "<think>Hello</think>"
    assert 128798 not in v3_1.special_token_ids and 1 in v3_1.special_token_ids
    assert (v3_1.bos_token_id, v3_1.eos_token_id) == (0, 1)
    assert v3_1.vocab_size == v3.vocab_size
    assert td.chat_template("deepseek_v3_1") is None


def test_v3_1_model_names_resolve_to_their_own_repos() -> None:
    for name in V3_1_NAMES:
        target = hub_target_for_model(name + ":peft")
        assert (target.repo_id, target.revision) == (name, "main")


@pytest.fixture
def hub_with_v3_1(monkeypatch: pytest.MonkeyPatch, v3_1_dir: Path) -> Iterator[HubState]:
    """A loopback hub whose V3.1 repos serve V3.1's files (the derived ones stand in for the published ones)."""
    files = {name: (v3_1_dir / name).read_bytes() for name in ("tokenizer.json", "tokenizer_config.json")}
    state = HubState()
    for name in V3_1_NAMES:
        state.repos[name] = Repo(COMMIT, files, {"tokenizer.json"})
    with serve(state) as endpoint:
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        yield state


@pytest.mark.parametrize("backend", _backends())
def test_get_tokenizer_for_v3_1_names_yields_the_think_tokens(hub_with_v3_1: HubState, backend: str) -> None:
    for name in V3_1_NAMES:
        tok = get_tokenizer(name + ":peft", backend=backend)
        assert tok.encode("<think>x</think>")[::2] == [128798, 128799], name
        assert tok.name_or_path == name + ":peft"
        assert (tok.bos_token_id, tok.eos_token_id) == (0, 1)
    requested = {p.split("/", 1)[1].split("/resolve/")[0] for _, p, _ in hub_with_v3_1.log if "/resolve/" in p}
    assert requested == set(V3_1_NAMES)


def test_get_tokenizer_reads_cached_v3_1_offline(hub_with_v3_1: HubState, monkeypatch: pytest.MonkeyPatch) -> None:
    from tinkerlite.tokenizers import loader

    assert get_tokenizer("deepseek-ai/DeepSeek-V3.1").encode("</think>") == [128799]
    loader.clear_cache()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub_with_v3_1.log.clear()
    assert get_tokenizer("deepseek-ai/DeepSeek-V3.1").encode("<think>") == [128798]
    assert hub_with_v3_1.log == []


def test_v3_files_stay_v3_whatever_the_name(tmp_path: Path) -> None:
    """A directory holding V3's files is loaded as V3: no name-based patching, even for a V3.1-looking path."""
    local = tmp_path / "DeepSeek-V3.1"
    local.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (local / name).write_bytes((td.need(td.tokenizer_dir, "deepseek_v3") / name).read_bytes())
    tok = get_tokenizer(str(local))
    assert len(tok.encode("<think>")) > 1
