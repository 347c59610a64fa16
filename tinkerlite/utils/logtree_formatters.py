"""Self-rendering logtree objects (the cookbook's ``utils.logtree_formatters``): HTML plus the CSS it needs.

``logtree.log_formatter(ConversationFormatter(messages=...))`` shows a conversation with role colours,
collapsible thinking, and tool calls; the JSON export carries the messages themselves (``to_data``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CONVERSATION_CSS", "ConversationFormatter"]


def _tool_call_text(tc: Any) -> str:
    fn = getattr(tc, "function", None)
    if fn is not None:
        return f"{fn.name}({fn.arguments})"
    if isinstance(tc, dict):
        f = tc.get("function", tc)
        return f"{f.get('name', '?')}({f.get('arguments', '')})"
    return str(tc)


def _render_content_html(content: Any) -> str:
    """Text parts escaped; thinking collapsible; tool calls (parsed or not) labelled; images as a marker."""
    if isinstance(content, str):
        return f'<span class="lt-text-part">{html.escape(content)}</span>'
    out = []
    for part in content:
        kind = part["type"]
        if kind == "text":
            out.append(f'<span class="lt-text-part">{html.escape(part["text"])}</span>')
        elif kind == "thinking":
            out.append(
                '<details class="lt-thinking-part"><summary>💭 Thinking</summary>'
                f"<pre>{html.escape(part['thinking'])}</pre></details>"
            )
        elif kind == "tool_call":
            out.append(
                '<div class="lt-tool-call-part"><span class="lt-tool-call-label">🔧 Tool Call:</span> '
                f"<code>{html.escape(_tool_call_text(part['tool_call']))}</code></div>"
            )
        elif kind == "unparsed_tool_call":
            out.append(
                '<div class="lt-unparsed-tool-call-part"><span class="lt-tool-call-label">⚠️ Unparsed Tool Call:'
                f"</span> <code>{html.escape(part['raw_text'])}</code>"
                f'<div class="lt-error">{html.escape(part["error"])}</div></div>'
            )
        elif kind in ("image", "image_url"):
            out.append('<span class="lt-image-part">🖼️ [Image]</span>')
        else:
            raise ValueError(f"Unknown content part type: {kind}")
    return "\n".join(out)


@dataclass
class ConversationFormatter:
    """A list of chat messages (``role`` + ``content``), rendered as a styled conversation."""

    messages: Sequence[Any]

    def to_html(self) -> str:
        parts = ['<div class="lt-conversation">']
        for msg in self.messages:
            role = html.escape(str(msg["role"]))
            parts.append(f'  <div class="lt-message lt-message-{role}">')
            parts.append(f'    <span class="lt-message-role">{role}:</span>')
            parts.append(f'    <div class="lt-message-content">{_render_content_html(msg["content"])}</div>')
            parts.append("  </div>")
        parts.append("</div>")
        return "\n".join(parts)

    def to_data(self) -> dict[str, Any]:
        from ..renderers.content import message_to_jsonable

        return {"type": "conversation", "messages": [message_to_jsonable(m) for m in self.messages]}

    def get_css(self) -> str:
        return CONVERSATION_CSS


CONVERSATION_CSS = """
.lt-conversation { display: flex; flex-direction: column; gap: 0.4rem; margin: 0.5rem 0; }
.lt-message { border-radius: 6px; padding: 0.4rem 0.7rem; white-space: pre-wrap; }
.lt-message-role { font-weight: 600; margin-right: 0.4rem; }
.lt-message-system { background: #f2f2f2; } .lt-message-user { background: #e8f1fe; }
.lt-message-assistant { background: #eaf7ea; } .lt-message-tool { background: #fff6e0; }
.lt-thinking-part pre { background: #fafafa; color: #555; }
.lt-tool-call-label { font-weight: 600; } .lt-error { color: #b42318; }
"""
