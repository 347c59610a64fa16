"""Checks on caller input, before anything is rendered: errors name ``messages[i].field``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tinkerlite.renderers.errors import RendererError, _where
from tinkerlite.renderers.tool_calls import as_tool_call, tool_call_arguments

__all__: list[str] = []


_PART_FIELDS = {"text": "text", "thinking": "thinking", "image": "image", "audio": "audio"}


def _validate_message(
    message: Any,
    idx: int,
    allowed_roles: frozenset[str] | None,
    *,
    check_tool_arguments: bool = True,
    accepts_images: bool = False,
) -> None:
    """Structure always; roles only when ``allowed_roles``; tool-call JSON only when ``check_tool_arguments``.

    Image parts pass only for the vision-language formats (``accepts_images``); audio never does.
    """
    if not isinstance(message, Mapping):
        raise RendererError(f"expected a message dict, got {type(message).__name__}", field=f"messages[{idx}]")
    role = message.get("role")
    if not isinstance(role, str):
        raise RendererError("role must be a string", field=_where(idx, "role"))
    if allowed_roles is not None and role not in allowed_roles:
        raise RendererError(
            f"role {role!r} is not supported by this renderer (supported: {sorted(allowed_roles)})",
            field=_where(idx, "role"),
        )
    if "content" not in message:
        raise RendererError("message has no content", field=_where(idx, "content"))
    content = message["content"]
    if isinstance(content, list):
        for j, part in enumerate(content):
            where = _where(idx, f"content[{j}]")
            if not isinstance(part, Mapping) or part.get("type") not in _PART_FIELDS:
                raise RendererError("content part must be a dict with type text/thinking/image/audio", field=where)
            if part["type"] == "audio" or (part["type"] == "image" and not accepts_images):
                raise RendererError(
                    f"{part['type']} parts are not supported by this renderer (image parts need a "
                    "vision-language renderer such as qwen3_vl, qwen3_5 or kimi_k25)",
                    field=where,
                )
            key = _PART_FIELDS[part["type"]]
            if key not in part:
                raise RendererError(f"{part['type']} part has no {key!r} field", field=where)
            if key in ("text", "thinking") and not isinstance(part[key], str):
                raise RendererError(f"{key} must be a string", field=f"{where}.{key}")
    elif not isinstance(content, str):
        raise RendererError("content must be a string or a list of parts", field=_where(idx, "content"))
    if "tool_calls" in message:
        calls = message["tool_calls"]
        if not isinstance(calls, list):
            raise RendererError("tool_calls must be a list", field=_where(idx, "tool_calls"))
        for j, tc in enumerate(calls):
            where = _where(idx, f"tool_calls[{j}]")
            call = as_tool_call(tc, where=where)
            if not check_tool_arguments:
                continue
            args = tool_call_arguments(call, where=where)
            if not isinstance(args, dict):
                raise RendererError("tool call arguments must be a JSON object", field=f"{where}.arguments")
    for key in ("name", "tool_call_id"):
        if key in message and not isinstance(message[key], str):
            raise RendererError(f"{key} must be a string", field=_where(idx, key))
