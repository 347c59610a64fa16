"""Read the bits of ``tokenizer_config.json`` / ``special_tokens_map.json`` a tokenizer needs.

``tokenizer.json`` has no notion of BOS/EOS; transformers keeps them in these side files, as plain
strings or as serialized ``AddedToken`` dicts (``{"__type": "AddedToken", "content": ...}``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ValidationError

__all__ = ["TokenizerConfig", "parse_tokenizer_config", "read_tokenizer_config", "token_content"]

_UNSET: Any = object()


@dataclass(frozen=True)
class TokenizerConfig:
    bos_token: str | None = None
    eos_token: str | None = None
    pad_token: str | None = None
    # id -> (content, special), from ``added_tokens_decoder``; Kimi's tiktoken tokenizer reads its table here.
    added_tokens_decoder: dict[int, tuple[str, bool]] = field(default_factory=dict)
    chat_template: str | None = None
    has_bos: bool = False  # whether a file said anything about bos (an explicit null counts)
    has_eos: bool = False


def token_content(value: Any, *, where: str) -> str | None:
    """A special token given as ``"<s>"``, ``null`` or an AddedToken dict -> its text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return str(value["content"])
    raise ValidationError(f"expected a string, null or an AddedToken object, got {value!r:.80}", field=where)


def _chat_template(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):  # [{"name": "default", "template": ...}, {"name": "tool_use", ...}]
        named = {d.get("name"): d.get("template") for d in value if isinstance(d, dict)}
        tpl = named.get("default")
        return tpl if isinstance(tpl, str) else None
    raise ValidationError("chat_template must be a string or a list of named templates", field=where)


def parse_tokenizer_config(
    config: dict[str, Any] | None,
    special_tokens_map: dict[str, Any] | None = None,
    *,
    source: str = "tokenizer_config.json",
    chat_template_file: str | None = None,
) -> TokenizerConfig:
    """Merge both files: ``tokenizer_config.json`` wins, ``special_tokens_map.json`` fills gaps."""
    config = config or {}
    stm = special_tokens_map or {}
    values: dict[str, str | None] = {}
    present: dict[str, bool] = {}
    for key in ("bos_token", "eos_token", "pad_token"):
        present[key] = key in config or key in stm
        if key in config and config[key] is not None:
            values[key] = token_content(config[key], where=f"{source}:{key}")
        elif key in stm:
            values[key] = token_content(stm[key], where=f"special_tokens_map.json:{key}")
        else:
            values[key] = None
    decoder: dict[int, tuple[str, bool]] = {}
    raw = config.get("added_tokens_decoder") or {}
    if not isinstance(raw, dict):
        raise ValidationError("added_tokens_decoder must be an object", field=f"{source}:added_tokens_decoder")
    for key, tok in raw.items():
        where = f"{source}:added_tokens_decoder.{key}"
        try:
            tid = int(key)
        except ValueError as exc:
            raise ValidationError("keys must be integer ids", field=where) from exc
        content = token_content(tok, where=where)
        if content is None:
            raise ValidationError("missing content", field=where)
        special = bool(tok.get("special", True)) if isinstance(tok, dict) else True
        decoder[tid] = (content, special)
    template = chat_template_file
    if template is None:
        template = _chat_template(config.get("chat_template"), f"{source}:chat_template")
    return TokenizerConfig(
        bos_token=values["bos_token"],
        eos_token=values["eos_token"],
        pad_token=values["pad_token"],
        added_tokens_decoder=decoder,
        chat_template=template,
        has_bos=present["bos_token"],
        has_eos=present["eos_token"],
    )


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"not valid JSON: {exc}", field=str(path)) from exc
    if not isinstance(data, dict):
        raise ValidationError("expected a JSON object", field=str(path))
    return data


def read_tokenizer_config(directory: Path) -> TokenizerConfig:
    """Config of a tokenizer directory; missing files simply mean "nothing known"."""
    tpl_path = directory / "chat_template.jinja"
    return parse_tokenizer_config(
        _read_json(directory / "tokenizer_config.json"),
        _read_json(directory / "special_tokens_map.json"),
        source=str(directory / "tokenizer_config.json"),
        chat_template_file=tpl_path.read_text(encoding="utf-8") if tpl_path.is_file() else None,
    )
