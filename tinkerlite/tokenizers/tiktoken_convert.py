"""Convert a tiktoken rank file into an HF ``tokenizer.json`` document.

Kimi K2 and Meta's original Llama 3 release ship only tiktoken ranks (``<base64 token> <rank>`` per line);
converting them once lets both backends treat every family as a ``tokenizer.json``. The conversion is
deterministic and reproduces the published HF files for Llama 3 and o200k (vocab and merge order).
Pure functions only: the caller reads the bytes and caches the result.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import ValidationError

__all__ = [
    "AddedTokenSpec",
    "build_tokenizer_json",
    "byte_to_unicode",
    "merges_from_ranks",
    "parse_tiktoken_ranks",
    "token_to_unicode",
]


@dataclass(frozen=True)
class AddedTokenSpec:
    """One added (usually special) token of a converted tokenizer."""

    id: int
    content: str
    special: bool = True


@lru_cache(maxsize=1)
def byte_to_unicode() -> tuple[str, ...]:
    """GPT-2's reversible byte -> printable character map, the spelling every byte-level BPE vocab uses."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table: list[str] = [""] * 256
    extra = 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return tuple(table)


def token_to_unicode(token: bytes) -> str:
    table = byte_to_unicode()
    return "".join([table[b] for b in token])


def parse_tiktoken_ranks(data: bytes, *, source: str = "<tiktoken>") -> dict[bytes, int]:
    """Parse a tiktoken rank file; errors name the file and line so a corrupt download is easy to spot."""
    ranks: dict[bytes, int] = {}
    seen_ranks: set[int] = set()
    for lineno, line in enumerate(data.splitlines(), start=1):
        if not line:
            continue
        parts = line.split(b" ")
        if len(parts) != 2:
            raise ValidationError(f"expected '<base64> <rank>' but got {line[:60]!r}", field=f"{source}:{lineno}")
        try:
            token = base64.b64decode(parts[0], validate=True)
            rank = int(parts[1])
        except (binascii.Error, ValueError) as exc:
            raise ValidationError(f"bad tiktoken line {line[:60]!r}: {exc}", field=f"{source}:{lineno}") from exc
        if token in ranks or rank in seen_ranks or rank < 0:
            raise ValidationError(f"duplicate token or rank {rank}", field=f"{source}:{lineno}")
        ranks[token] = rank
        seen_ranks.add(rank)
    if not ranks:
        raise ValidationError("empty tiktoken rank file", field=source)
    return ranks


def merges_from_ranks(ranks: Mapping[bytes, int]) -> list[tuple[bytes, bytes]]:
    """Recover BPE merges: every split of a token into two tokens, ordered by (merged rank, left, right).

    tiktoken merges the adjacent pair whose concatenation has the lowest rank; emitting candidate merges
    in merged-rank order gives HF's BPE (which picks the lowest merge index) the same priorities.
    """
    out: list[tuple[bytes, bytes]] = []
    for token, _rank in sorted(ranks.items(), key=lambda kv: kv[1]):
        if len(token) < 2:
            continue
        local: list[tuple[int, int, bytes, bytes]] = []
        for i in range(1, len(token)):
            left = ranks.get(token[:i])
            if left is None:
                continue
            right = ranks.get(token[i:])
            if right is None:
                continue
            local.append((left, right, token[:i], token[i:]))
        local.sort()
        out.extend((lt, rt) for _, _, lt, rt in local)
    return out


def build_tokenizer_json(
    ranks: Mapping[bytes, int],
    *,
    pattern: str,
    added_tokens: Sequence[AddedTokenSpec],
    normalizer: Mapping[str, Any] | None = None,
    bos_post_processor: str | None = None,
) -> dict[str, Any]:
    """Assemble a ``tokenizer.json`` (BPE + Split/ByteLevel) from ranks and a special-token table.

    ``ignore_merges`` makes a pre-token that is itself in the vocab map straight to its id, as tiktoken does.
    ``bos_post_processor`` (a token content) adds HF's BOS template, so ``add_special_tokens=True``
    behaves like the published file; renderers never ask for it.
    """
    spell = byte_to_unicode()
    vocab = {"".join([spell[b] for b in tok]): rank for tok, rank in sorted(ranks.items(), key=lambda kv: kv[1])}
    if len(vocab) != len(ranks):
        raise ValidationError("two tokens spell the same after the byte-level map", field="ranks")
    merges = [["".join([spell[b] for b in lt]), "".join([spell[b] for b in rt])] for lt, rt in merges_from_ranks(ranks)]
    base_ids = set(ranks.values())
    added: list[dict[str, Any]] = []
    seen: set[int] = set()
    for spec in sorted(added_tokens, key=lambda s: s.id):
        if spec.id in seen:
            raise ValidationError(f"duplicate added-token id {spec.id}", field="added_tokens")
        seen.add(spec.id)
        if spec.id in base_ids and vocab.get(spec.content) != spec.id:
            # Trap: tokenizers would silently give such a token a fresh id unless the vocab agrees.
            raise ValidationError(f"added token {spec.content!r} reuses base id {spec.id}", field="added_tokens")
        added.append(
            {
                "id": spec.id,
                "content": spec.content,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": spec.special,
            }
        )
    # tokenizers ignores the id of an added token that is not in the vocab and appends it instead, so the
    # new ones must continue the id space densely or every id after the gap silently shifts.
    fresh = sorted(a["id"] for a in added if a["id"] not in base_ids)
    if fresh and fresh != list(range(len(vocab), len(vocab) + len(fresh))):
        raise ValidationError(
            f"added-token ids must continue the vocab densely from {len(vocab)}; got {fresh[0]}..{fresh[-1]} "
            f"({len(fresh)} ids)",
            field="added_tokens",
        )
    post: dict[str, Any] | None = None
    if bos_post_processor is not None:
        bos_id = next((s.id for s in added_tokens if s.content == bos_post_processor), None)
        if bos_id is None:
            raise ValidationError(f"BOS {bos_post_processor!r} is not an added token", field="bos")
        post = {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": bos_post_processor, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
            ],
            "pair": [
                {"SpecialToken": {"id": bos_post_processor, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": bos_post_processor, "type_id": 1}},
                {"Sequence": {"id": "B", "type_id": 1}},
            ],
            "special_tokens": {
                bos_post_processor: {"id": bos_post_processor, "ids": [bos_id], "tokens": [bos_post_processor]}
            },
        }
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": dict(normalizer) if normalizer is not None else None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            ],
        },
        "post_processor": post,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": True,
            "vocab": vocab,
            "merges": merges,
        },
    }
