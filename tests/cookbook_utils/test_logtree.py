"""logtree: nested sections, escaping, tables, error traces, task-local state, formatter CSS, JSON export."""

from __future__ import annotations

import asyncio
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tinkerlite.utils import logtree
from tinkerlite.utils.logtree_formatters import ConversationFormatter


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: list[tuple[str, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("meta", "link", "br"):  # void elements
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.seen.append((*self.stack, data.strip()))


def _parse(path: Path) -> _Tags:
    p = _Tags()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_nested_sections_levels_and_escaping(tmp_path: Path) -> None:
    out = tmp_path / "t.html"
    with logtree.init_trace("Run <1>", path=out) as trace:
        with logtree.scope_header("Sampling", class_="s", data__k="v"):
            logtree.log_text("a < b & c")
            with logtree.scope_header("Inner"):
                logtree.header("auto")
                logtree.details("long\n  text", summary="CoT")
        logtree.table([{"name": "x", "score": 1}, {"name": "y"}], caption="T")
        logtree.table_from_dict({"b": 2, "a": 1}, sort_by="key")
        logtree.table_from_dict_of_lists({"c1": [1, 2], "c2": ["u", "v"]})
        with logtree.scope_disable():
            logtree.log_text("hidden")
        with logtree.optional_enable_logging(False):
            logtree.log_text("hidden too")
        with logtree.scope_details("more"), logtree.scope_div(class_="g"):
            logtree.log_html("<b>bold</b>")
    text = out.read_text()
    assert "&lt;1&gt;" in text and "a &lt; b &amp; c" in text and "hidden" not in text
    assert 'class="s"' in text and 'data-k="v"' in text
    tags = _parse(out)
    assert tags.stack == []
    assert ("html", "body", "section", "h2", "Sampling") in tags.seen
    assert ("html", "body", "section", "div", "section", "h3", "Inner") in tags.seen
    assert ("html", "body", "section", "div", "section", "div", "h4", "auto") in tags.seen
    assert trace.title == "Run <1>"
    keys = [row[-1] for row in tags.seen if row[-2] == "td"]
    assert keys[:3] == ["x", "1", "y"] and "a" in keys and keys.index("a") < keys.index("b")


def test_errors_are_written_with_the_traceback(tmp_path: Path) -> None:
    out = tmp_path / "err.html"
    with pytest.raises(ZeroDivisionError), logtree.init_trace("boom", path=out):
        logtree.log_text("before")
        _ = 1 / 0
    assert "ZeroDivisionError" in out.read_text() and "before" in out.read_text()
    quiet = tmp_path / "quiet.html"
    with pytest.raises(RuntimeError), logtree.init_trace("q", path=quiet, write_on_error=False):
        raise RuntimeError
    assert not quiet.exists()


def test_no_trace_is_a_noop_and_bad_tables_are_refused(tmp_path: Path) -> None:
    logtree.log_text("nobody listens")
    with logtree.scope_header("x"):
        logtree.table({"a": 1})  # disabled: nothing is checked or written
    assert logtree.flush_trace() is False
    with logtree.init_trace("t"), pytest.raises(TypeError, match="table_from_dict"):
        logtree.table({"a": 1})
    with logtree.init_trace("t"), pytest.raises(ValueError, match="same length"):
        logtree.table_from_dict_of_lists({"a": [1], "b": [1, 2]})


def test_concurrent_tasks_log_into_their_own_sections(tmp_path: Path) -> None:
    out = tmp_path / "c.html"

    @logtree.scope_header_decorator("worker")
    async def work(i: int) -> int:
        for k in range(3):
            logtree.log_text(f"task{i}-step{k}")
            await asyncio.sleep(0)
        return i

    async def main() -> list[int]:
        return list(await asyncio.gather(*(work(i) for i in range(3))))

    with logtree.init_trace("conc", path=out):
        assert asyncio.run(main()) == [0, 1, 2]
    sections = out.read_text().split("<section")[1:]
    assert len(sections) == 3
    for i, sec in enumerate(sections):
        assert [f"task{i}-step{k}" in sec for k in range(3)] == [True] * 3
        assert all(f"task{j}-" not in sec for j in range(3) if j != i)


def test_formatter_css_once_flush_and_json(tmp_path: Path) -> None:
    out = tmp_path / "f.html"
    convo = [
        {"role": "user", "content": "hi <there>"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "yo"}]},
    ]
    with logtree.init_trace("fmt", path=out) as trace:
        logtree.log_formatter(ConversationFormatter(messages=convo))
        logtree.log_formatter(ConversationFormatter(messages=convo[:1]))
        assert logtree.flush_trace() is True and out.exists()
    text = out.read_text()
    assert text.count(".lt-conversation {") == 1 and "hi &lt;there&gt;" in text and "Thinking" in text
    js = tmp_path / "t.json"
    logtree.write_trace_json(trace, js)
    data = json.loads(js.read_text())
    convs = [n["data"] for n in data["root"]["children"] if "data" in n]
    assert convs[0]["type"] == "conversation" and convs[0]["messages"][0]["content"] == "hi <there>"
    page = tmp_path / "page.html"
    logtree.write_html_with_default_style("<p>x</p>", page, title="T")
    assert "<title>T</title>" in page.read_text() and _parse(page).stack == []
    ctx = logtree.jinja_context(trace, extra=1)
    assert ctx["title"] == "fmt" and ctx["extra"] == 1 and "<body" not in ctx["body_html"]
