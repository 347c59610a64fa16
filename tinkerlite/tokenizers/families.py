"""Per-family facts needed to turn a tiktoken rank file into a tokenizer: split regex and special tokens.

A tiktoken file carries only ranks; the pre-tokenizer regex and the special-token table live in each
vendor's Python code, so they are restated here (see docs/tokenizer-sources.md). Rank files are recognised
by sha256, never by name or offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .tiktoken_convert import AddedTokenSpec

__all__ = ["TIKTOKEN_FAMILIES", "TiktokenFamily", "family_for_sha256", "guess_family_for_filename"]

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
O200K_PATTERN = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
KIMI_K2_PATTERN = (
    r"[\p{Han}]+"
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+"
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*"
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


@dataclass(frozen=True)
class TiktokenFamily:
    """What a tiktoken rank file needs to become a full tokenizer."""

    name: str
    pattern: str
    sha256s: frozenset[str]
    named_specials: Mapping[int, str]
    special_range: tuple[int, int]  # [start, stop) of ids that are special tokens
    reserved_name: str  # format string with {id} or {n} (n = running index of unnamed ids)
    bos_token: str | None
    eos_token: str | None
    bos_post_processor: bool = False

    def added_tokens(
        self, n_base: int | None = None, overrides: Mapping[int, tuple[str, bool]] | None = None
    ) -> list[AddedTokenSpec]:
        """The full special table, placed right after the ``n_base`` ranks (as the vendors' code does).

        ``overrides`` (absolute ids, from a tokenizer_config's ``added_tokens_decoder``) win.
        """
        start, stop = self.special_range
        shift = 0 if n_base is None else n_base - start
        specs: dict[int, AddedTokenSpec] = {}
        n = 0
        for tid in range(start, stop):
            name = self.named_specials.get(tid)
            if name is None:
                name = self.reserved_name.format(id=tid + shift, n=n)
                n += 1
            specs[tid + shift] = AddedTokenSpec(tid + shift, name, True)
        for tid, (content, special) in (overrides or {}).items():
            specs[tid] = AddedTokenSpec(tid, content, special)
        return [specs[k] for k in sorted(specs)]


# Llama 3.1 names (HF release). The 3.0 release and the npm mirror call 128004/128008/128010 reserved tokens.
_LLAMA3_NAMED = {
    128000: "<|begin_of_text|>",
    128001: "<|end_of_text|>",
    128004: "<|finetune_right_pad_id|>",
    128006: "<|start_header_id|>",
    128007: "<|end_header_id|>",
    128008: "<|eom_id|>",
    128009: "<|eot_id|>",
    128010: "<|python_tag|>",
}

_O200K_HARMONY_NAMED = {
    199998: "<|startoftext|>",
    199999: "<|endoftext|>",
    200002: "<|return|>",
    200003: "<|constrain|>",
    200005: "<|channel|>",
    200006: "<|start|>",
    200007: "<|end|>",
    200008: "<|message|>",
    200012: "<|call|>",
    200018: "<|endofprompt|>",
}

_KIMI_K2_NAMED = {
    163584: "[BOS]",
    163585: "[EOS]",
    163586: "<|im_end|>",
    163587: "<|im_user|>",
    163588: "<|im_assistant|>",
    163590: "<|start_header_id|>",
    163591: "<|end_header_id|>",
    163593: "[EOT]",
    163594: "<|im_system|>",
    163595: "<|tool_calls_section_begin|>",
    163596: "<|tool_calls_section_end|>",
    163597: "<|tool_call_begin|>",
    163598: "<|tool_call_argument_begin|>",
    163599: "<|tool_call_end|>",
    163601: "<|im_middle|>",
    163606: "<think>",
    163607: "</think>",
    163838: "[UNK]",
    163839: "[PAD]",
}

TIKTOKEN_FAMILIES: dict[str, TiktokenFamily] = {
    "llama3": TiktokenFamily(
        name="llama3",
        pattern=LLAMA3_PATTERN,
        sha256s=frozenset({"82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55"}),
        named_specials=_LLAMA3_NAMED,
        special_range=(128000, 128256),
        reserved_name="<|reserved_special_token_{n}|>",
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        bos_post_processor=True,
    ),
    "o200k_harmony": TiktokenFamily(
        name="o200k_harmony",
        pattern=O200K_PATTERN,
        sha256s=frozenset({"446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"}),
        named_specials=_O200K_HARMONY_NAMED,
        special_range=(199998, 200019),  # as the published gpt-oss tokenizer.json
        reserved_name="<|reserved_{id}|>",
        bos_token="<|startoftext|>",
        eos_token="<|return|>",
    ),
    "kimi_k2": TiktokenFamily(
        name="kimi_k2",
        pattern=KIMI_K2_PATTERN,
        sha256s=frozenset({"b6c497a7469b33ced9c38afb1ad6e47f03f5e5dc05f15930799210ec050c5103"}),
        named_specials=_KIMI_K2_NAMED,
        special_range=(163584, 163840),
        reserved_name="<|reserved_token_{id}|>",
        bos_token="[BOS]",
        eos_token="[EOS]",
    ),
}


def family_for_sha256(digest: str) -> TiktokenFamily | None:
    for fam in TIKTOKEN_FAMILIES.values():
        if digest in fam.sha256s:
            return fam
    return None


def guess_family_for_filename(filename: str) -> TiktokenFamily | None:
    """Fallback for an unrecognised rank file, from the name each vendor uses."""
    if filename == "tiktoken.model":
        return TIKTOKEN_FAMILIES["kimi_k2"]
    if filename.endswith(".tiktoken"):
        return TIKTOKEN_FAMILIES["o200k_harmony"]
    if filename == "tokenizer.model":
        return TIKTOKEN_FAMILIES["llama3"]
    return None
