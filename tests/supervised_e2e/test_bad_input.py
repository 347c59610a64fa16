"""Bad datasets fail before the first request: the message names file and line, and the server sees nothing."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tinkerlite.supervised.data import DataFormatError
from tinkerlite.supervised.train import run

from .helpers import read_jsonl, small_config
from .proxy import RecordingProxy

GOOD = json.dumps({"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]})


def _rows(*bad: str | bytes, at: int = 5, n: int = 12) -> bytes:
    """``n`` good lines with ``bad`` lines inserted from (1-based) line ``at``."""
    lines: list[bytes] = [GOOD.encode()] * n
    for i, b in enumerate(bad):
        lines.insert(at - 1 + i, b if isinstance(b, bytes) else b.encode())
    return b"\n".join(lines) + b"\n"


def _msgs(*messages: object) -> str:
    return json.dumps({"messages": list(messages)})


CASES = {
    "malformed_json": (_rows('{"messages": [}'), 5, "invalid JSON"),
    "not_an_object": (_rows("[1, 2]"), 5, "must be a JSON object"),
    "missing_messages": (_rows('{"conversation": []}'), 5, "missing 'messages'"),
    "missing_content": (_rows(_msgs({"role": "user"})), 5, "messages[0].content"),
    "missing_role": (_rows(_msgs({"content": "hi"})), 5, "messages[0].role"),
    "non_string_role": (_rows(_msgs({"role": 7, "content": "hi"})), 5, "messages[0].role"),
    "unknown_role": (_rows(_msgs({"role": "robot", "content": "hi"})), 5, "role 'robot' is not supported"),
    "bad_content_part": (_rows(_msgs({"role": "user", "content": [{"type": "video"}]})), 5, "messages[0].content[0]"),
    "empty_messages": (_rows(_msgs()), 5, "messages: is empty"),
    "non_utf8": (_rows(b'{"messages": [{"role": "user", "content": "caf\xe9"}]}'), 5, "not valid UTF-8"),
    "bad_late_line": (_rows("{oops", at=12), 12, "invalid JSON"),
    "empty_file": (b"", 0, "dataset has no rows"),
    "blank_lines_only": (b"\n\n  \n", 0, "dataset has no rows"),
    "no_full_batch": (_rows(n=3), 0, "make no full batch"),
}


# Renderers accept any role by default, as the cookbook's do; strict mode is what refuses one.
STRICT_ONLY = {"unknown_role"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_dataset_is_rejected_before_any_request(
    case: str, server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if case in STRICT_ONLY:
        monkeypatch.setenv("TINKERLITE_RENDERER_STRICT", "1")
    content, line, needle = CASES[case]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    url, _ = server
    with RecordingProxy(url) as proxy:
        with pytest.raises(DataFormatError) as exc:
            run(small_config(tmp_path / "log", path, proxy.url, test_size=2, batch_size=4))
        sent = proxy.counts()
    message = str(exc.value)
    assert f"{path}:{line}:" in message, message
    assert needle in message, message
    assert exc.value.path == str(path) and exc.value.line == line
    assert "forward_backward" not in sent and "create_model" not in sent, sent
    assert not any(k in sent for k in ("optim_step", "save_weights", "forward")), sent


def test_overlong_conversations_are_truncated_and_counted(
    server: tuple[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Cookbook semantics: truncate to max_length; a row left with nothing to train on is counted, not sent silently."""
    long_prompt = _msgs({"role": "user", "content": "x" * 300}, {"role": "assistant", "content": "late answer"})
    long_answer = _msgs({"role": "user", "content": "q"}, {"role": "assistant", "content": "y" * 300})
    path = tmp_path / "long.jsonl"
    path.write_bytes(_rows(long_prompt, long_answer, at=3))
    url, _ = server
    with caplog.at_level(logging.WARNING, logger="tinkerlite.supervised.data"):
        summary = run(small_config(tmp_path / "log", path, url, max_length=64, test_size=2, batch_size=4))
    text = caplog.text
    assert "2 conversation(s) reach max_length=64 and are truncated" in text
    assert "1 conversation(s) have no trained token" in text and "first at line 3" in text
    assert summary["steps_run"] == 3
    assert all(r["num_tokens"] <= 4 * 63 for r in read_jsonl(tmp_path / "log" / "metrics.jsonl") if "num_tokens" in r)
