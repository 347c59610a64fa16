"""Nested HTML transcripts of rollouts and evaluations (the cookbook's ``utils.logtree``), standard library only.

A trace is a tree of nodes that mirrors the call tree: ``init_trace`` opens a document, ``scope_header``
opens a section whose header level follows the nesting, ``log_text`` / ``log_html`` / ``table`` / ``details``
add content, and the HTML (one self-contained file with inline CSS) is written when the trace closes, also
on error (with the traceback appended) unless ``write_on_error=False``. State is kept in context variables,
so concurrent asyncio tasks each append to their own section. With no active trace, or inside
``scope_disable``, every call is a no-op, so library code can log unconditionally.

Example::

    with logtree.init_trace("Iteration 1", path="iter1.html"):
        with logtree.scope_header("Sampling"):
            logtree.log_text("Generated 100 samples")
"""

from __future__ import annotations

import functools
import html as html_module
import inspect
import json
import os
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast, overload

from .files import atomic_write_bytes

__all__ = [
    "Formatter",
    "Node",
    "Theme",
    "Trace",
    "details",
    "flush_trace",
    "header",
    "init_trace",
    "jinja_context",
    "log_formatter",
    "log_html",
    "log_text",
    "optional_enable_logging",
    "render_with_jinja",
    "scope_details",
    "scope_disable",
    "scope_div",
    "scope_header",
    "scope_header_decorator",
    "table",
    "table_from_dict",
    "table_from_dict_of_lists",
    "write_html_with_default_style",
    "write_trace_json",
]

_current_trace: ContextVar[Trace | None] = ContextVar("lt_current_trace", default=None)
_container_stack: ContextVar[tuple[Node, ...]] = ContextVar("lt_container_stack", default=())
_header_depth: ContextVar[tuple[int, ...]] = ContextVar("lt_header_depth", default=())
_logging_disabled: ContextVar[bool] = ContextVar("lt_logging_disabled", default=False)

F = TypeVar("F", bound=Callable[..., Any])


class Formatter(Protocol):
    """An object that renders itself: ``to_html()`` plus the CSS it needs (added once per trace)."""

    def to_html(self) -> str: ...

    def get_css(self) -> str: ...

    def to_data(self) -> dict[str, Any] | None:
        """Optional structured data for the JSON export (so consumers need not parse the HTML)."""
        return None


@dataclass
class Node:
    """One HTML element; string children are raw (already escaped) HTML. ``data`` goes to the JSON export."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    data: dict[str, Any] | None = field(default=None, repr=False)

    def to_html(self, indent: int = 0) -> str:
        ind = "  " * indent
        attrs = "".join(f' {k}="{html_module.escape(v, quote=True)}"' for k, v in self.attrs.items())
        if all(isinstance(c, str) for c in self.children):  # text-only nodes stay on one line (pre-wrap)
            return f"{ind}<{self.tag}{attrs}>{''.join(cast(list[str], self.children))}</{self.tag}>\n"
        parts = [f"{ind}<{self.tag}{attrs}>\n"]
        parts.extend(c if isinstance(c, str) else c.to_html(indent + 1) for c in self.children)
        parts.append(f"{ind}</{self.tag}>\n")
        return "".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready tree; when ``data`` is set, raw HTML children are left out (read ``data`` instead)."""
        if self.data is not None:
            children: list[Any] = [c.to_dict() for c in self.children if isinstance(c, Node)]
        else:
            children = [c if isinstance(c, str) else c.to_dict() for c in self.children]
        d: dict[str, Any] = {"tag": self.tag, "attrs": dict(self.attrs), "children": children}
        if self.data is not None:
            d["data"] = self.data
        return d


@dataclass
class Theme:
    """Styling: replacement CSS (``None`` = built-in), stylesheet URLs, and ``:root`` CSS variables."""

    css_text: str | None = None
    css_urls: list[str] = field(default_factory=list)
    css_vars: dict[str, str] = field(default_factory=dict)


_DEFAULT_CSS = """
body.lt-root { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2rem auto; padding: 0 1rem;
  line-height: 1.45; color: #1d1d1f; }
.lt-title { margin-bottom: 0.2rem; } .lt-subtitle { color: #777; margin-bottom: 1.5rem; }
.lt-section { border-left: 3px solid #d0d7de; padding-left: 0.9rem; margin: 0.8rem 0; }
.lt-p { white-space: pre-wrap; margin: 0.35rem 0; }
pre { background: #f6f8fa; padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; }
details { margin: 0.4rem 0; } summary { cursor: pointer; color: #0550ae; }
.lt-exc summary { color: #b42318; font-weight: 600; }
table.lt-table { border-collapse: collapse; margin: 0.5rem 0; }
table.lt-table td, table.lt-table th { border: 1px solid #d0d7de; padding: 0.25rem 0.6rem; text-align: left; }
table.lt-table caption { caption-side: top; text-align: left; font-weight: 600; }
"""


class Trace:
    """One document being built; made by :func:`init_trace`."""

    def __init__(self, title: str, path: str | os.PathLike[str] | None, write_on_error: bool) -> None:
        self.title = title
        self.path = Path(path) if path is not None else None
        self.write_on_error = write_on_error
        self.started_at = datetime.now()
        self.root = Node("body", {"class": "lt-root"})
        self._formatter_css: set[str] = set()

    def _register_formatter_css(self, css: str) -> None:
        if css:
            self._formatter_css.add(css)

    def body_html(self, wrap_body: bool = True) -> str:
        inner = self.root.to_html(indent=0)
        if wrap_body:
            return inner
        return "\n".join(line for line in inner.split("\n") if "<body" not in line and "</body>" not in line)

    def get_html(self) -> str:
        return self.body_html(wrap_body=True)

    def head_html(self, theme: Theme | None = None, title: str | None = None, extra_head: str | None = None) -> str:
        """Contents of ``<head>``: title, meta, stylesheet links, inline CSS (theme, variables, formatters)."""
        theme = theme or Theme()
        parts = [
            f"<title>{html_module.escape(title or self.title)}</title>",
            '<meta charset="UTF-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
        ]
        parts += [f'<link rel="stylesheet" href="{html_module.escape(u, quote=True)}">' for u in theme.css_urls]
        css = theme.css_text if theme.css_text is not None else _DEFAULT_CSS
        if css or self._formatter_css or theme.css_vars:
            parts.append("<style>")
            parts.append(css)
            if theme.css_vars:
                parts.append(":root {" + "".join(f" {k}: {v};" for k, v in theme.css_vars.items()) + " }")
            parts.extend(sorted(self._formatter_css))
            parts.append("</style>")
        if extra_head:
            parts.append(extra_head)
        return "\n".join(parts)

    def to_html(self, theme: Theme | None = None) -> str:
        head = self.head_html(theme)
        return f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{head}\n</head>\n{self.get_html()}</html>\n'

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "started_at": self.started_at.isoformat(), "root": self.root.to_dict()}


def _write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _normalize_attrs(**attrs: Any) -> dict[str, str]:
    """``class_="x"`` -> ``class="x"``, ``data__k="v"`` -> ``data-k="v"``; ``None`` values dropped."""
    return {k.rstrip("_").replace("__", "-"): str(v) for k, v in attrs.items() if v is not None}


def _enabled() -> bool:
    return _current_trace.get() is not None and not _logging_disabled.get()


def _append(node: Node | str) -> None:
    stack = _container_stack.get()
    if not stack:
        raise RuntimeError("No active container to append to")
    stack[-1].children.append(node)


@contextmanager
def _in_container(node: Node) -> Iterator[None]:
    tok = _container_stack.set((*_container_stack.get(), node))
    try:
        yield
    finally:
        _container_stack.reset(tok)


def _next_header_level() -> int:
    depth = _header_depth.get()
    return min((depth[-1] if depth else 1) + 1, 6)


def _exception_block(exc: BaseException) -> Node:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    summary = Node("summary", {}, [html_module.escape(f"Exception: {type(exc).__name__}: {exc}")])
    return Node("details", {"class": "lt-exc", "open": "open"}, [summary, Node("pre", {}, [html_module.escape(tb)])])


def _write_trace(trace: Trace, theme: Theme | None = None) -> None:
    if trace.path is not None:
        trace.path.parent.mkdir(parents=True, exist_ok=True)
        _write_text(trace.path, trace.to_html(theme))


@contextmanager
def init_trace(
    title: str, path: str | os.PathLike[str] | None = None, *, write_on_error: bool = True
) -> Iterator[Trace]:
    """Open a trace; on exit its HTML goes to ``path`` (if given), on error with the traceback appended."""
    trace = Trace(title, path, write_on_error=write_on_error)
    tok_t = _current_trace.set(trace)
    tok_s = _container_stack.set((trace.root,))
    tok_h = _header_depth.set((1,))
    _append(Node("h1", {"class": "lt-title"}, [html_module.escape(title)]))
    _append(Node("div", {"class": "lt-subtitle"}, [f"Generated {trace.started_at.isoformat(timespec='seconds')}"]))
    try:
        yield trace
    except BaseException as e:
        _append(_exception_block(e))
        if write_on_error:
            _write_trace(trace)
        raise
    else:
        _write_trace(trace)
    finally:
        _header_depth.reset(tok_h)
        _container_stack.reset(tok_s)
        _current_trace.reset(tok_t)


@contextmanager
def scope_header(title: str, **attrs: Any) -> Iterator[None]:
    """A section headed ``title`` one level below the enclosing one (h2, h3, ... capped at h6)."""
    if not _enabled():
        yield
        return
    section = Node("section", {"class": "lt-section", **_normalize_attrs(**attrs)})
    _append(section)
    with _in_container(section):
        level = _next_header_level()
        _append(Node(f"h{level}", {"class": f"lt-h{level}"}, [html_module.escape(title)]))
        tok = _header_depth.set((*_header_depth.get(), level))
        body = Node("div", {"class": "lt-section-body"})
        _append(body)
        try:
            with _in_container(body):
                yield
        finally:
            _header_depth.reset(tok)


@overload
def scope_header_decorator(title: str) -> Callable[[F], F]: ...
@overload
def scope_header_decorator(title: F) -> F: ...
def scope_header_decorator(title: str | F) -> F | Callable[[F], F]:
    """Run the function (sync or async) inside ``scope_header``; bare use takes the function's name."""

    def wrap(fn: F, text: str) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                with scope_header(text):
                    return await fn(*args, **kwargs)

            return cast(F, awrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with scope_header(text):
                return fn(*args, **kwargs)

        return cast(F, wrapper)

    if callable(title):
        return wrap(title, title.__name__)
    return lambda fn: wrap(fn, title)


@contextmanager
def scope_div(**attrs: Any) -> Iterator[None]:
    """A ``<div>`` container (header levels unchanged)."""
    if not _enabled():
        yield
        return
    div = Node("div", _normalize_attrs(**attrs))
    _append(div)
    with _in_container(div):
        yield


@contextmanager
def scope_disable() -> Iterator[None]:
    """Nothing inside is logged."""
    tok = _logging_disabled.set(True)
    try:
        yield
    finally:
        _logging_disabled.reset(tok)


@contextmanager
def optional_enable_logging(enable: bool) -> Iterator[None]:
    """Log as usual when ``enable``, else behave as :func:`scope_disable`."""
    if enable:
        yield
    else:
        with scope_disable():
            yield


@contextmanager
def scope_details(summary: str) -> Iterator[None]:
    """A collapsible ``<details>`` block holding whatever is logged inside."""
    if not _enabled():
        yield
        return
    node = Node("details", {}, [Node("summary", {}, [html_module.escape(summary)])])
    _append(node)
    with _in_container(node):
        yield


def log_text(text: str, *, div_class: str | None = None) -> None:
    """A paragraph of escaped text (in ``<div class=div_class>`` when given)."""
    if _enabled():
        _append(
            Node("div", {"class": div_class}, [html_module.escape(text)])
            if div_class
            else Node("p", {"class": "lt-p"}, [html_module.escape(text)])
        )


def log_html(html: str, *, div_class: str | None = None) -> None:
    """Raw HTML, inserted verbatim."""
    if _enabled():
        _append(Node("div", {"class": div_class}, [html]) if div_class else html)


def log_formatter(formatter: Formatter) -> None:
    """A self-rendering object; its CSS is added to the trace once."""
    if not _enabled():
        return
    trace = _current_trace.get()
    assert trace is not None
    trace._register_formatter_css(formatter.get_css())
    to_data = getattr(formatter, "to_data", None)
    data = to_data() if callable(to_data) else None
    _append(Node("div", {"class": "lt-formatted"}, [formatter.to_html()], data=data))


def details(text: str, *, summary: str = "Details", pre: bool = True) -> None:
    """Collapsible text (``<pre>`` keeps whitespace)."""
    if _enabled():
        inner = Node("pre" if pre else "div", {}, [html_module.escape(text)])
        _append(Node("details", {}, [Node("summary", {}, [html_module.escape(summary)]), inner]))


def header(text: str, *, level: int | None = None) -> None:
    """An inline header (level from the scope depth unless given; 1-6)."""
    if _enabled():
        lv = max(1, min(6, level if level is not None else _next_header_level()))
        _append(Node(f"h{lv}", {"class": f"lt-h{lv}"}, [html_module.escape(text)]))


def _cell(tag: str, value: Any) -> Node:
    return Node(tag, {}, [html_module.escape(str(value))])


def _table_from_list_of_lists(rows: list[list[Any]], *, caption: str | None = None, has_header: bool = False) -> None:
    t = Node("table", {"class": "lt-table"})
    if caption:
        t.children.append(Node("caption", {}, [html_module.escape(caption)]))
    for i, row in enumerate(rows):
        t.children.append(Node("tr", {}, [_cell("th" if has_header and i == 0 else "td", v) for v in row]))
    _append(t)


def table(obj: Any, *, caption: str | None = None) -> None:
    """A table from a list of dicts (keys of the first row are the columns), a list of lists, or a
    pandas DataFrame (duck-typed; pandas is never imported). A plain dict is refused: use
    :func:`table_from_dict` or :func:`table_from_dict_of_lists`."""
    if not _enabled():
        return
    if hasattr(obj, "to_html") and hasattr(obj, "columns"):
        log_html(obj.to_html(), div_class="lt-table")
    elif isinstance(obj, dict):
        raise TypeError("table() does not take a dict; use table_from_dict or table_from_dict_of_lists")
    elif isinstance(obj, list) and obj and all(isinstance(r, dict) for r in obj):
        keys = list(obj[0].keys())
        _table_from_list_of_lists(
            [keys, *[[r.get(k, "") for k in keys] for r in obj]], caption=caption, has_header=True
        )
    elif isinstance(obj, list) and all(isinstance(r, (list, tuple)) for r in obj):
        if obj:
            _table_from_list_of_lists([list(r) for r in obj], caption=caption)
    else:
        raise TypeError(f"table() cannot render {type(obj).__name__}")


def table_from_dict(
    data: Mapping[Any, Any],
    *,
    caption: str | None = None,
    key_header: str = "key",
    value_header: str = "value",
    sort_by: str | None = None,
) -> None:
    """Two columns, key and value; ``sort_by`` = ``"key"``, ``"value"`` or None (insertion order)."""
    if not _enabled():
        return
    items = list(data.items())
    if sort_by == "key":
        items.sort(key=lambda kv: str(kv[0]))
    elif sort_by == "value":
        items.sort(key=lambda kv: kv[1])
    elif sort_by is not None:
        raise ValueError(f"sort_by must be 'key', 'value' or None, got {sort_by!r}")
    _table_from_list_of_lists(
        [[key_header, value_header], *[[k, v] for k, v in items]], caption=caption, has_header=True
    )


def table_from_dict_of_lists(
    columns: Mapping[str, Sequence[Any]], *, caption: str | None = None, order: Sequence[str] | None = None
) -> None:
    """Columns given as ``{name: values}``; every column must have the same length."""
    if not _enabled():
        return
    names = list(order) if order is not None else list(columns)
    lengths = {len(columns[n]) for n in names}
    if len(lengths) > 1:
        raise ValueError(f"all columns must have the same length, got {sorted(lengths)}")
    n_rows = lengths.pop() if lengths else 0
    rows = [[columns[n][i] for n in names] for i in range(n_rows)]
    _table_from_list_of_lists([names, *rows], caption=caption, has_header=True)


def write_html_with_default_style(
    body_html: str,
    path: str | os.PathLike[str],
    *,
    title: str = "Trace",
    theme: Theme | None = None,
    lang: str = "en",
    extra_head: str | None = None,
) -> None:
    """A complete HTML document around ``body_html`` (with or without its ``<body>`` tags)."""
    head = Trace(title, None, False).head_html(theme, title, extra_head)
    body = body_html if "<body" in body_html else f'<body class="lt-root">\n{body_html}\n</body>\n'
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _write_text(Path(path), f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n{head}\n</head>\n{body}</html>\n')


def write_trace_json(trace: Trace, path: str | os.PathLike[str]) -> None:
    """The trace's node tree as JSON."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _write_text(Path(path), json.dumps(trace.to_dict(), indent=2, default=str))


def jinja_context(trace: Trace, **extra: Any) -> dict[str, Any]:
    """Template variables: title, generated_at, started_at, body_html, head_html (+ ``extra``)."""
    return {
        "title": trace.title,
        "generated_at": datetime.now().isoformat(timespec="seconds"),
        "started_at": trace.started_at.isoformat(timespec="seconds"),
        "body_html": trace.body_html(wrap_body=False),
        "head_html": trace.head_html(),
        **extra,
    }


def render_with_jinja(
    env: Any, template_name: str, *, context: dict[str, Any], write_to: str | os.PathLike[str] | None = None
) -> str:
    """Render ``template_name`` from a ``jinja2.Environment`` the caller made (jinja2 is theirs, not ours)."""
    out = str(env.get_template(template_name).render(**context))
    if write_to is not None:
        _write_text(Path(write_to), out)
    return out


def flush_trace() -> bool:
    """Write the active trace now (long runs can be inspected early); False when there is none or no path."""
    trace = _current_trace.get()
    if trace is None or trace.path is None:
        return False
    _write_trace(trace)
    return True
