"""Encoding segments: every header and body is encoded on its own (BPE never merges across them).

While a supervised example is built, segment ids are memoised (:func:`encode_memo`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from tinkerlite.renderers.errors import RendererError
from tinkerlite.tokenizers.base import Tokenizer
from tinkerlite.types import EncodedTextChunk

__all__ = [
    "chunk",
    "chunk_length",
    "encode",
    "encode_literal",
    "encode_memo",
    "single_token",
    "tokens_weights_from_strings_weights",
]


# While a supervised example is built, segment ids are memoised by text: the example renders the history,
# then the generation prompt it is checked against renders it again (and build_supervised_examples renders
# each prefix once more). Encoding is a pure function of (tokenizer, text, mode), so reuse is exact. The memo
# lives in a ContextVar: per thread and per task, dropped when the outermost build returns.
_EncodeMemo = tuple[object, dict[tuple[str, bool], list[int]]]
_ENCODE_MEMO: ContextVar[_EncodeMemo | None] = ContextVar("tinkerlite_renderer_encode_memo", default=None)


@contextmanager
def encode_memo(tokenizer: Tokenizer) -> Iterator[None]:
    """Memoise :func:`encode`/:func:`encode_literal` for ``tokenizer`` inside the block (nests)."""
    current = _ENCODE_MEMO.get()
    if current is not None and current[0] is tokenizer:
        yield
        return
    token = _ENCODE_MEMO.set((tokenizer, {}))
    try:
        yield
    finally:
        _ENCODE_MEMO.reset(token)


def _memo_for(tokenizer: Tokenizer) -> dict[tuple[str, bool], list[int]] | None:
    current = _ENCODE_MEMO.get()
    return current[1] if current is not None and current[0] is tokenizer else None


def encode(tokenizer: Tokenizer, text: str) -> list[int]:
    """One segment, no BOS/EOS; special-token strings written in the text become control tokens."""
    memo = _memo_for(tokenizer)
    if memo is None:
        return list(tokenizer.encode(text, add_special_tokens=False))
    ids = memo.get((text, False))
    if ids is None:
        ids = memo[(text, False)] = list(tokenizer.encode(text, add_special_tokens=False))
    return list(ids)


def encode_literal(tokenizer: Tokenizer, text: str, special_strings: Sequence[str]) -> list[int]:
    """Encode so that special-token strings inside user text stay plain text (HF ``split_special_tokens``).

    Qwen3 encodes message bodies this way so a literal ``<|im_end|>`` typed by a user cannot end the
    turn. Non-special added tokens such as ``<think>`` are still matched, as in HF.
    """
    if not any(s in text for s in special_strings):
        return encode(tokenizer, text)
    memo = _memo_for(tokenizer)
    hit = None if memo is None else memo.get((text, True))
    if hit is not None:
        return list(hit)
    try:
        ids = list(tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True))
    except TypeError:
        raise RendererError(
            "this text contains a special-token string that must be encoded as plain text, but the "
            f"tokenizer {type(tokenizer).__name__} does not support encode(..., split_special_tokens=True)"
        ) from None
    if memo is not None:
        memo[(text, True)] = ids
        return list(ids)
    return ids


def single_token(tokenizer: Tokenizer, text: str) -> int:
    """The id of a control token, checked to be exactly one token."""
    ids = encode(tokenizer, text)
    if len(ids) != 1:
        raise RendererError(f"expected {text!r} to be a single token in this tokenizer, got {ids}")
    return ids[0]


def chunk(tokens: Sequence[int]) -> EncodedTextChunk:
    return EncodedTextChunk(tokens=list(tokens))


def chunk_length(c: object) -> int:
    """Positions a chunk takes: its tokens, or an image chunk's ``expected_tokens``."""
    tokens = getattr(c, "tokens", None)
    return len(tokens) if tokens is not None else int(getattr(c, "length"))  # noqa: B009


def tokens_weights_from_strings_weights(
    strings_weights: Sequence[tuple[str, float]], tokenizer: Tokenizer
) -> tuple[list[int], list[float]]:
    """Encode (text, weight) segments separately; only the first gets the tokenizer's special tokens."""
    tokens: list[int] = []
    weights: list[float] = []
    for i, (text, weight) in enumerate(strings_weights):
        ids = tokenizer.encode(text, add_special_tokens=i == 0)
        tokens.extend(ids)
        weights.extend([float(weight)] * len(ids))
    return tokens, weights
