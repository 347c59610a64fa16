"""``PureTokenizer``: HF ``tokenizers``-exact byte-level BPE in the standard library only.

Pipeline, in the order ``tokenizers`` runs it: split out added tokens matched on the raw text
(``normalized: false``), normalize the rest, split out added tokens matched on normalized text, run the
pre-tokenizer chain (``Split``/``ByteLevel``/``Sequence``), BPE each piece, then the post-processor
(only when ``add_special_tokens=True``). Unsupported tokenizer.json features raise
:class:`~tinkerlite.errors.ValidationError` naming the file and the JSON field rather than encoding
differently from ``tokenizers``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from ..._optional import try_import
from ...errors import ValidationError
from ..base import NamedSpecialTokens
from ._bpe import BPE
from ._bytelevel import decode_tokens, to_bytelevel
from ._regex import compile_pattern

# The file-format records and parsers (GPT2_PATTERN and the pre-tokenizer records stay importable here).
from ._spec import (
    _NORMAL_FORMS,
    _AddedToken,
    _normal_form,
    _parse_added,
    _parse_decoder,
    _parse_model,
    _parse_normalizer,
    _parse_post,
    _parse_pretokenizer,
    _parse_tiktoken,
    _Spec,
    _special_names,
    _Step,
)
from ._spec import GPT2_PATTERN as GPT2_PATTERN
from ._spec import _ByteLevelStep as _ByteLevelStep
from ._spec import _Split as _Split

__all__ = ["PureTokenizer"]

_RAW_CACHE_CAPACITY = 200_000


def _is_ws(c: str) -> bool:
    # Rust's char::is_whitespace is Unicode White_Space; str.isspace adds U+001C..U+001F.
    return c.isspace() and not ("\x1c" <= c <= "\x1f")


def _is_word_char(c: str) -> bool:
    # tokenizers: char::is_alphanumeric() || '_'  (Alphabetic approximated by L* + N*).
    return c.isalnum() or c == "_"


class PureTokenizer(NamedSpecialTokens):
    """A loaded tokenizer implementing the :class:`tinkerlite.tokenizers.base.Tokenizer` protocol."""

    def __init__(
        self,
        *,
        model: BPE,
        added_tokens: Sequence[_AddedToken],
        normalizer: Callable[[str], str] | None,
        steps: Sequence[_Step],
        post_single: tuple[list[int], list[int]] | None,
        decoder_bytelevel: bool,
        name_or_path: str,
        bos_token: str | None = None,
        eos_token: str | None = None,
    ) -> None:
        self._model = model
        self._normalizer = normalizer
        self._post_single = post_single
        self._decoder_bytelevel = decoder_bytelevel
        self._name_or_path = name_or_path
        self._added = sorted(added_tokens, key=lambda t: t.id)
        self._added_by_content = {t.content: t for t in self._added}
        self._added_by_id = {t.id: t for t in self._added}
        self._special_ids = frozenset(t.id for t in self._added if t.special)
        self._all_special = tuple(t.content for t in self._added if t.special)
        self._vocab_r = {i: s for s, i in model.vocab.items()}
        self._raw_matcher = self._matcher([t for t in self._added if not t.normalized], None)
        self._norm_matcher = self._matcher([t for t in self._added if t.normalized], normalizer)
        # A trailing ByteLevel(no prefix, no regex) is applied lazily, so cached pieces skip the byte map.
        steps = list(steps)
        self._lazy_bytelevel = bool(
            steps
            and isinstance(steps[-1], _ByteLevelStep)
            and not steps[-1].add_prefix_space
            and steps[-1].regex is None
        )
        if self._lazy_bytelevel:
            steps.pop()
        self._steps = steps
        self._fast_regex = (
            steps[0].regex
            if len(steps) == 1
            and isinstance(steps[0], _Split)
            and steps[0].behavior == "Isolated"
            and not steps[0].invert
            else None
        )
        # A chain of Isolated splits (DeepSeek's digits / CJK / words): one C-level ``re.split`` per piece.
        self._isolated_splits = _isolated_splitters(steps) if self._fast_regex is None else None
        self._raw_cache: dict[str, list[int]] = {}
        self._bos_token = bos_token
        self._eos_token = eos_token

    # -- construction ------------------------------------------------------------------------------------
    @classmethod
    def from_file(
        cls,
        path: str | os.PathLike[str],
        *,
        bos_token: str | None = None,
        eos_token: str | None = None,
        tokenizer_config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    ) -> PureTokenizer:
        """Load a ``tokenizer.json``; ``tokenizer_config`` (dict or path) supplies bos/eos names."""
        p = Path(path)
        try:
            data = p.read_bytes()
            orjson = try_import("orjson")  # optional speed-up only; stdlib json gives the same result
            obj = orjson.loads(data) if orjson is not None else json.loads(data)
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise ValidationError(f"cannot read tokenizer.json: {e}", field=str(p)) from None
        return cls.from_tokenizer_json(
            obj, name_or_path=str(p), bos_token=bos_token, eos_token=eos_token, tokenizer_config=tokenizer_config
        )

    @classmethod
    def from_tokenizer_json(
        cls,
        obj: Mapping[str, Any],
        *,
        name_or_path: str = "",
        bos_token: str | None = None,
        eos_token: str | None = None,
        tokenizer_config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    ) -> PureTokenizer:
        spec = _Spec(name_or_path or "<tokenizer.json>")
        if not isinstance(obj, Mapping):
            raise spec.err("$", "a tokenizer.json must be a JSON object")
        for key in ("truncation", "padding"):
            if obj.get(key) is not None:
                raise spec.err(key, "not supported by the pure-Python backend (must be null)")
        model = _parse_model(spec, spec.get(obj, "model", "$", dict))
        added = _parse_added(spec, obj.get("added_tokens") or [])
        normalizer = _parse_normalizer(spec, obj.get("normalizer"), "normalizer")
        steps = _parse_pretokenizer(spec, obj.get("pre_tokenizer"), "pre_tokenizer")
        lookup = {t.content: t.id for t in added}
        post = _parse_post(spec, obj.get("post_processor"), "post_processor", lookup, model.vocab)
        decoder = _parse_decoder(spec, obj.get("decoder"), "decoder")
        bos, eos = _special_names(spec, tokenizer_config, bos_token, eos_token)
        return cls(
            model=model,
            added_tokens=added,
            normalizer=normalizer,
            steps=steps,
            post_single=post,
            decoder_bytelevel=decoder,
            name_or_path=name_or_path,
            bos_token=bos,
            eos_token=eos,
        )

    @classmethod
    def from_tiktoken(
        cls,
        path_or_bytes: str | os.PathLike[str] | bytes,
        pattern: str | Sequence[str],
        special_tokens: Mapping[str, int],
        *,
        normalizer: str | None = None,
        name_or_path: str | None = None,
        bos_token: str | None = None,
        eos_token: str | None = None,
    ) -> PureTokenizer:
        """A tiktoken rank file as the equivalent byte-level BPE tokenizer.json would encode it.

        ``pattern`` is the Oniguruma split regex, or several applied in turn as ``Split(Isolated)`` stages
        (DeepSeek V3); ``normalizer`` (``"NFC"`` for Qwen) is applied first.
        """
        if isinstance(path_or_bytes, bytes):
            data, source = path_or_bytes, name_or_path or "<tiktoken bytes>"
        else:
            source = str(path_or_bytes)
            try:
                data = Path(path_or_bytes).read_bytes()
            except OSError as e:
                raise ValidationError(f"cannot read tiktoken file: {e}", field=source) from None
        vocab = _parse_tiktoken(data, source)
        spec = _Spec(source)
        norm = None
        if normalizer is not None:
            if normalizer not in _NORMAL_FORMS:
                raise spec.err("normalizer", f"expected one of {_NORMAL_FORMS}, got {normalizer!r}")
            norm = _normal_form(normalizer)
        added = [_AddedToken(i, s, True, False, False, False, False) for s, i in special_tokens.items()]
        model = BPE(vocab, merges=None, ignore_merges=True)
        patterns = [pattern] if isinstance(pattern, str) else list(pattern)
        steps: list[_Step] = [
            _Split(compile_pattern(p, f"{source}: pattern[{i}]"), "Isolated", False) for i, p in enumerate(patterns)
        ]
        steps.append(_ByteLevelStep(False, None))
        return cls(
            model=model,
            added_tokens=added,
            normalizer=norm,
            steps=steps,
            post_single=None,
            decoder_bytelevel=True,
            name_or_path=name_or_path or source,
            bos_token=bos_token,
            eos_token=eos_token,
        )

    # -- protocol ----------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Distinct token strings, added tokens included (HF's ``get_vocab_size(with_added_tokens=True)``)."""
        vocab = self._model.vocab
        return len(vocab) + sum(1 for t in self._added if t.content not in vocab)

    @property
    def special_token_ids(self) -> frozenset[int]:
        return self._special_ids

    @property
    def all_special_tokens(self) -> tuple[str, ...]:
        return self._all_special

    def token_to_id(self, token: str) -> int | None:
        t = self._added_by_content.get(token)
        return t.id if t is not None else self._model.vocab.get(token)

    def id_to_token(self, id: int) -> str | None:
        t = self._added_by_id.get(id)
        return t.content if t is not None else self._vocab_r.get(id)

    def encode(self, text: str, add_special_tokens: bool = False, split_special_tokens: bool = False) -> list[int]:
        """``split_special_tokens=True`` treats special added tokens written in ``text`` as plain text
        (HF's ``encode_special_tokens``); non-special added tokens are still matched."""
        raw_matcher, norm_matcher = (
            self._matchers_without_specials()
            if split_special_tokens
            else (
                self._raw_matcher,
                self._norm_matcher,
            )
        )
        ids: list[int] = []
        segments = ((text, None),) if raw_matcher is None else self._find_added(text, raw_matcher)
        for seg, tid in segments:
            if tid is not None:
                ids.append(tid)
                continue
            if self._normalizer is not None:
                seg = self._normalizer(seg)
            if norm_matcher is None:
                self._encode_plain(seg, ids)
                continue
            for seg2, tid2 in self._find_added(seg, norm_matcher):
                if tid2 is not None:
                    ids.append(tid2)
                else:
                    self._encode_plain(seg2, ids)
        if add_special_tokens and self._post_single is not None:
            before, after = self._post_single
            ids = before + ids + after
        return ids

    def encode_batch(self, texts: Sequence[str], add_special_tokens: bool = False) -> list[list[int]]:
        """Sequential: CPython threads would not speed this up, and the word cache is shared."""
        return [self.encode(t, add_special_tokens) for t in texts]

    def set_word_encoder(self, encode_word: Callable[[str], list[int]] | None) -> None:
        """Let ``encode_word(piece)`` compute the ids of each pre-tokenized piece not seen before (the piece as
        the BPE model receives it: byte-level spelled when the pre-tokenizer says so).

        The ``auto`` backend passes HF's compiled model of the same file: this class still splits added
        tokens, normalizes, pre-tokenizes and caches per piece (in C-level dict lookups), and only the BPE
        merges of new pieces run in Rust. ``None`` restores the pure-Python merges.
        """
        self._model.word_encoder = encode_word
        self._model.clear_cache()
        self._raw_cache.clear()

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        """As ``tokenizers``: unknown ids are skipped; invalid UTF-8 becomes U+FFFD."""
        tokens: list[str] = []
        for i in ids:
            if skip_special_tokens and i in self._special_ids:
                continue
            tok = self.id_to_token(i)
            if tok is not None:
                tokens.append(tok)
        if self._decoder_bytelevel:
            return decode_tokens(tokens)
        return " ".join(tokens)

    # -- internals ---------------------------------------------------------------------------------------
    @staticmethod
    def _matcher(
        tokens: Sequence[_AddedToken], normalizer: Callable[[str], str] | None
    ) -> tuple[re.Pattern[str], dict[str, _AddedToken]] | None:
        """Leftmost-longest literal matcher (as aho-corasick's): alternation longest first."""
        by_text: dict[str, _AddedToken] = {}
        for t in tokens:
            text = normalizer(t.content) if normalizer is not None else t.content
            if text:
                by_text.setdefault(text, t)
        if not by_text:
            return None
        alts = sorted(by_text, key=len, reverse=True)
        return re.compile("|".join(map(re.escape, alts))), by_text

    def _matchers_without_specials(self) -> tuple[Any, Any]:
        cached = self.__dict__.get("_nospecial_matchers")
        if cached is None:
            plain = [t for t in self._added if not t.special]
            cached = (
                self._matcher([t for t in plain if not t.normalized], None),
                self._matcher([t for t in plain if t.normalized], self._normalizer),
            )
            self.__dict__["_nospecial_matchers"] = cached
        return cached

    def _split_raw(self, text: str) -> Iterable[tuple[str, int | None]]:
        if self._raw_matcher is None:
            return ((text, None),)
        return self._find_added(text, self._raw_matcher)

    @staticmethod
    def _find_added(text: str, matcher: tuple[re.Pattern[str], dict[str, _AddedToken]]) -> list[tuple[str, int | None]]:
        """``AddedVocabulary::find_matches``: segments of text and added-token ids, with strip flags."""
        regex, by_text = matcher
        out: list[tuple[str, int | None]] = []
        done = 0
        for m in regex.finditer(text):
            start, stop = m.span()
            tok = by_text[m.group()]
            if tok.single_word:
                start_ok = start == 0 or not _is_word_char(text[start - 1])
                stop_ok = stop == len(text) or not _is_word_char(text[stop])
                if not (start_ok and stop_ok):
                    continue
            if start < done:  # overlaps spaces a previous rstrip consumed
                continue
            if tok.lstrip:
                s = start
                while s > 0 and _is_ws(text[s - 1]):
                    s -= 1
                start = max(s, done)
            if tok.rstrip:
                while stop < len(text) and _is_ws(text[stop]):
                    stop += 1
            if done < start:
                out.append((text[done:start], None))
            out.append(("", tok.id))
            done = stop
        if done < len(text) or not out:
            out.append((text[done:], None))
        return out

    def _encode_plain(self, text: str, ids: list[int]) -> None:
        if not text:
            return
        fast = self._fast_regex
        if fast is not None:
            pieces: list[str] = fast.findall(text)
            if sum(map(len, pieces)) != len(text):
                pieces = _split(text, self._steps[0])  # type: ignore[arg-type]
        elif self._isolated_splits is not None:
            pieces = [text]
            for split in self._isolated_splits:
                pieces = list(filter(None, chain.from_iterable(map(split, pieces))))
        else:
            pieces = [text]
            for step in self._steps:
                if isinstance(step, _Split):
                    pieces = [q for p in pieces for q in _split(p, step)]
                else:
                    pieces = [q for p in pieces for q in _bytelevel_step(p, step)]
        if self._lazy_bytelevel:
            # Every piece seen before is one C-level dict lookup; only the misses run Python code.
            cache = self._raw_cache
            hits = list(map(cache.get, pieces))
            if None in hits:
                encode_word = self._model.encode_word
                for k, hit in enumerate(hits):
                    if hit is None:
                        p = pieces[k]
                        hit = cache.get(p)  # the same piece earlier in this text
                        if hit is None:
                            hit = encode_word(to_bytelevel(p))
                            if len(cache) < _RAW_CACHE_CAPACITY:
                                cache[p] = hit
                        hits[k] = hit
            ids.extend(chain.from_iterable(hits))  # type: ignore[arg-type]
        else:
            for p in pieces:
                ids.extend(self._model.encode_word(p))


def _isolated_splitters(steps: Sequence[_Step]) -> list[Callable[[str], list[str]]] | None:
    """``re.split`` with the whole pattern captured, per step, when every step is an Isolated split.

    ``re.split`` walks the matches exactly as ``finditer`` does (empty ones included) and returns gaps and
    matches alternately, so dropping its empty strings gives :func:`_split`'s Isolated result. Patterns
    with groups of their own (which ``re.split`` would also return) or that do not compile wrapped fall
    back to :func:`_split`.
    """
    out: list[Callable[[str], list[str]]] = []
    for step in steps:
        if not isinstance(step, _Split) or step.behavior != "Isolated" or step.invert or step.regex.groups:
            return None
        try:
            wrapped = re.compile(f"({step.regex.pattern})", step.regex.flags)
        except re.error:
            return None
        if wrapped.groups != 1:
            return None
        out.append(wrapped.split)
    return out or None


def _split(text: str, step: _Split) -> list[str]:
    """``NormalizedString::split`` with a regex and one of the five delimiter behaviours."""
    segs: list[tuple[int, int, bool]] = []
    prev = 0
    for m in step.regex.finditer(text):
        s, e = m.span()
        if prev != s:
            segs.append((prev, s, False))
        segs.append((s, e, True))
        prev = e
    if prev != len(text):
        segs.append((prev, len(text), False))
    if step.invert:
        segs = [(s, e, not is_m) for s, e, is_m in segs]
    b = step.behavior
    out: list[tuple[int, int]] = []
    if b == "Isolated":
        out = [(s, e) for s, e, _ in segs]
    elif b == "Removed":
        out = [(s, e) for s, e, is_m in segs if not is_m]
    elif b == "MergedWithPrevious":
        prev_match = False
        for s, e, is_m in segs:
            if is_m and not prev_match and out:
                out[-1] = (out[-1][0], e)
            else:
                out.append((s, e))
            prev_match = is_m
    elif b == "MergedWithNext":
        prev_match = False
        for s, e, is_m in reversed(segs):
            if is_m and not prev_match and out:
                out[-1] = (s, out[-1][1])
            else:
                out.append((s, e))
            prev_match = is_m
        out.reverse()
    else:  # Contiguous
        prev_match = False
        for s, e, is_m in segs:
            if is_m == prev_match and out:
                out[-1] = (out[-1][0], e)
            else:
                out.append((s, e))
            prev_match = is_m
    return [text[s:e] for s, e in out if e > s]


def _bytelevel_step(text: str, step: _ByteLevelStep) -> list[str]:
    if step.add_prefix_space and not text.startswith(" "):
        text = " " + text
    pieces = [text] if step.regex is None else _split(text, _Split(step.regex, "Isolated", False))
    return [to_bytelevel(p) for p in pieces]
