"""Reading tokenizer.json and tiktoken files into :class:`.tokenizer.PureTokenizer`'s parts.

The file-format half of the pure tokenizer: each section (model, added tokens, normalizer, pre-tokenizer,
post-processor, decoder) parsed into plain records, refusing what the backend cannot encode exactly with a
:class:`~tinkerlite.errors.ValidationError` that names the file and the JSON field.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ValidationError
from ._bpe import BPE
from ._bytelevel import BYTE_TO_CHAR
from ._regex import compile_pattern

# GPT-2's pattern, used by a ByteLevel pre-tokenizer with ``use_regex: true``.
GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
_NORMAL_FORMS = ("NFC", "NFD", "NFKC", "NFKD")
_BEHAVIORS = ("Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous")


@dataclass(frozen=True)
class _AddedToken:
    id: int
    content: str
    special: bool
    normalized: bool
    lstrip: bool
    rstrip: bool
    single_word: bool


@dataclass(frozen=True)
class _Split:
    regex: re.Pattern[str]
    behavior: str
    invert: bool


@dataclass(frozen=True)
class _ByteLevelStep:
    add_prefix_space: bool
    regex: re.Pattern[str] | None


_Step = _Split | _ByteLevelStep


class _Spec:
    """Helpers to read a tokenizer.json with errors that name the file and the field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def err(self, field: str, msg: str) -> ValidationError:
        return ValidationError(f"{msg} (in {self.source})", field=field)

    def get(self, obj: Mapping[str, Any], key: str, field: str, typ: type | tuple[type, ...]) -> Any:
        if key not in obj:
            raise self.err(f"{field}.{key}", "missing")
        val = obj[key]
        if not isinstance(val, typ):
            raise self.err(f"{field}.{key}", f"expected {typ}, got {type(val).__name__}")
        return val



def _normal_form(form: str) -> Callable[[str], str]:
    def normalize(text: str) -> str:
        return unicodedata.normalize(form, text)  # type: ignore[arg-type]

    return normalize



# -- tokenizer.json sections -----------------------------------------------------------------------------
def _parse_model(spec: _Spec, model: Mapping[str, Any]) -> BPE:
    typ = model.get("type", "BPE" if "merges" in model else None)
    if typ != "BPE":
        raise spec.err("model.type", f"only BPE models are supported by the pure-Python backend, got {typ!r}")
    for key in ("continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(key):
            raise spec.err(f"model.{key}", "not supported by the pure-Python backend")
    if model.get("byte_fallback"):
        raise spec.err("model.byte_fallback", "not supported by the pure-Python backend")
    if model.get("dropout"):
        raise spec.err("model.dropout", "BPE dropout is not supported (it makes encoding random)")
    vocab = spec.get(model, "vocab", "model", dict)
    if not all(type(i) is int for i in vocab.values()):
        bad = next(t for t, i in vocab.items() if type(i) is not int)
        raise spec.err(f"model.vocab[{bad!r}]", "ids must be integers")
    merges = _parse_merges(spec, spec.get(model, "merges", "model", list), vocab)
    unk = model.get("unk_token")
    unk_id = None
    if unk is not None:
        if unk not in vocab:
            raise spec.err("model.unk_token", f"{unk!r} is not in model.vocab")
        unk_id = vocab[unk]
    return BPE(vocab, merges=merges, ignore_merges=bool(model.get("ignore_merges", False)), unk_id=unk_id)


def _parse_merges(spec: _Spec, raw: list[Any], vocab: Mapping[str, int]) -> dict[tuple[str, str], int]:
    """Merge pair -> rank (its index; a duplicate keeps its last index, as ``tokenizers``' HashMap does).

    Written as bulk comprehensions: a per-item validating loop costs seconds on 450k merges.
    """
    try:
        if raw and isinstance(raw[0], str):
            pairs = [tuple(m.split(" ")) for m in raw]
        else:
            pairs = [tuple(m) for m in raw]
        ok = all(len(p) == 2 and p[0] + p[1] in vocab for p in pairs)
    except (TypeError, AttributeError):
        ok = False
    if not ok:
        for rank, m in enumerate(raw):
            p = tuple(m.split(" ")) if isinstance(m, str) else tuple(m) if isinstance(m, list) else ()
            if len(p) != 2 or not all(isinstance(x, str) for x in p):
                raise spec.err(f"model.merges[{rank}]", f"expected 'a b' or a pair of strings, got {m!r}")
            if p[0] + p[1] not in vocab:
                raise spec.err(f"model.merges[{rank}]", f"merge result {p[0] + p[1]!r} is not in model.vocab")
    return dict(zip(pairs, range(len(pairs)), strict=True))


def _parse_added(spec: _Spec, items: Any) -> list[_AddedToken]:
    if not isinstance(items, list):
        raise spec.err("added_tokens", "expected a list")
    out = []
    for n, a in enumerate(items):
        field = f"added_tokens[{n}]"
        if not isinstance(a, dict):
            raise spec.err(field, "expected an object")
        out.append(
            _AddedToken(
                id=spec.get(a, "id", field, int),
                content=spec.get(a, "content", field, str),
                special=bool(a.get("special", False)),
                normalized=bool(a.get("normalized", not a.get("special", False))),
                lstrip=bool(a.get("lstrip", False)),
                rstrip=bool(a.get("rstrip", False)),
                single_word=bool(a.get("single_word", False)),
            )
        )
    return out


def _parse_normalizer(spec: _Spec, obj: Any, field: str) -> Callable[[str], str] | None:
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise spec.err(field, "expected an object or null")
    typ = obj.get("type")
    if typ in _NORMAL_FORMS:
        return _normal_form(typ)
    if typ == "Sequence":
        subs = [
            _parse_normalizer(spec, o, f"{field}.normalizers[{i}]")
            for i, o in enumerate(spec.get(obj, "normalizers", field, list))
        ]
        funcs = [f for f in subs if f is not None]
        if not funcs:
            return None
        if len(funcs) == 1:
            return funcs[0]

        def seq(text: str) -> str:
            for f in funcs:
                text = f(text)
            return text

        return seq
    raise spec.err(f"{field}.type", f"normalizer {typ!r} is not supported by the pure-Python backend")


def _parse_pretokenizer(spec: _Spec, obj: Any, field: str) -> list[_Step]:
    if obj is None:
        return []
    if not isinstance(obj, dict):
        raise spec.err(field, "expected an object or null")
    typ = obj.get("type")
    if typ == "Sequence":
        steps: list[_Step] = []
        for i, o in enumerate(spec.get(obj, "pretokenizers", field, list)):
            steps.extend(_parse_pretokenizer(spec, o, f"{field}.pretokenizers[{i}]"))
        return steps
    if typ == "Split":
        pat = spec.get(obj, "pattern", field, dict)
        if "Regex" in pat and isinstance(pat["Regex"], str):
            regex = compile_pattern(pat["Regex"], f"{spec.source}: {field}.pattern.Regex")
        elif "String" in pat and isinstance(pat["String"], str):
            regex = re.compile(re.escape(pat["String"]))
        else:
            raise spec.err(f"{field}.pattern", "expected {'Regex': str} or {'String': str}")
        behavior = obj.get("behavior", "Isolated")
        if behavior not in _BEHAVIORS:
            raise spec.err(f"{field}.behavior", f"unknown split behavior {behavior!r}")
        return [_Split(regex, behavior, bool(obj.get("invert", False)))]
    if typ == "ByteLevel":
        use_regex = obj.get("use_regex", True)
        gpt2 = compile_pattern(GPT2_PATTERN, "ByteLevel.use_regex") if use_regex else None
        return [_ByteLevelStep(bool(obj.get("add_prefix_space", True)), gpt2)]
    raise spec.err(f"{field}.type", f"pre-tokenizer {typ!r} is not supported by the pure-Python backend")


def _parse_post(
    spec: _Spec, obj: Any, field: str, added: Mapping[str, int], vocab: Mapping[str, int]
) -> tuple[list[int], list[int]] | None:
    """Ids a single-sequence post-processor puts before and after the sequence (None: nothing)."""
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise spec.err(field, "expected an object or null")
    typ = obj.get("type")
    if typ == "ByteLevel":
        return None  # only adjusts offsets
    if typ == "Sequence":
        before: list[int] = []
        after: list[int] = []
        for i, o in enumerate(spec.get(obj, "processors", field, list)):
            r = _parse_post(spec, o, f"{field}.processors[{i}]", added, vocab)
            if r is not None:
                before, after = r[0] + before, after + r[1]
        return (before, after) if before or after else None
    if typ == "TemplateProcessing":
        single = spec.get(obj, "single", field, list)
        specials = obj.get("special_tokens") or {}
        pre: list[int] = []
        post: list[int] = []
        seen_seq = False
        for i, item in enumerate(single):
            f = f"{field}.single[{i}]"
            if isinstance(item, dict) and "Sequence" in item:
                if seen_seq:
                    raise spec.err(f, "a single-sequence template may hold one Sequence")
                seen_seq = True
            elif isinstance(item, dict) and "SpecialToken" in item:
                name = item["SpecialToken"].get("id")
                entry = specials.get(name)
                if not isinstance(entry, dict) or not isinstance(entry.get("ids"), list):
                    raise spec.err(f"{field}.special_tokens", f"no ids for special token {name!r}")
                (post if seen_seq else pre).extend(int(x) for x in entry["ids"])
            else:
                raise spec.err(f, f"unknown template item {item!r}")
        return pre, post
    if typ in ("RobertaProcessing", "BertProcessing"):
        cls_ = spec.get(obj, "cls", field, list)
        sep = spec.get(obj, "sep", field, list)
        return [int(cls_[1])], [int(sep[1])]
    raise spec.err(f"{field}.type", f"post-processor {typ!r} is not supported by the pure-Python backend")


def _parse_decoder(spec: _Spec, obj: Any, field: str) -> bool:
    """True for a ByteLevel decoder, False for none (tokens joined by spaces, as tokenizers does)."""
    if obj is None:
        return False
    if not isinstance(obj, dict):
        raise spec.err(field, "expected an object or null")
    typ = obj.get("type")
    if typ == "ByteLevel":
        return True
    if typ == "Sequence":
        subs = [
            _parse_decoder(spec, o, f"{field}.decoders[{i}]")
            for i, o in enumerate(spec.get(obj, "decoders", field, list))
        ]
        if subs.count(True) == 1 and len(subs) == 1:
            return True
        if not subs:
            return False
        raise spec.err(field, "only a single ByteLevel decoder is supported by the pure-Python backend")
    raise spec.err(f"{field}.type", f"decoder {typ!r} is not supported by the pure-Python backend")


def _special_names(
    spec: _Spec,
    config: Mapping[str, Any] | str | os.PathLike[str] | None,
    bos: str | None,
    eos: str | None,
) -> tuple[str | None, str | None]:
    if config is not None and not isinstance(config, Mapping):
        try:
            config = json.loads(Path(config).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValidationError(f"cannot read tokenizer_config: {e}", field=str(config)) from None
        if not isinstance(config, Mapping):
            raise spec.err("tokenizer_config", "expected a JSON object")

    def name(key: str, given: str | None) -> str | None:
        if given is not None or config is None:
            return given
        val = config.get(key)
        if isinstance(val, dict):  # serialized AddedToken
            val = val.get("content")
        return val if isinstance(val, str) else None

    return name("bos_token", bos), name("eos_token", eos)


def _parse_tiktoken(data: bytes, source: str) -> dict[str, int]:
    """``<base64 token> <rank>`` lines to a byte-level-spelled vocabulary."""
    vocab: dict[str, int] = {}
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            tok_b64, rank = line.split()
            raw = base64.b64decode(tok_b64, validate=True)
            vocab[raw.decode("latin-1").translate(_LATIN1_MAP)] = int(rank)
        except (ValueError, binascii.Error):
            raise ValidationError(f"bad tiktoken line {line[:80]!r}", field=f"{source}:{n}") from None
    if not vocab:
        raise ValidationError("empty tiktoken file", field=source)
    return vocab


_LATIN1_MAP = dict(enumerate(BYTE_TO_CHAR))
