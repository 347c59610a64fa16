"""GPT-2's byte-to-unicode map, which byte-level BPE vocabularies are spelled in."""

from __future__ import annotations

__all__ = ["BYTE_TO_CHAR", "CHAR_TO_BYTE", "bytes_to_unicode", "decode_tokens"]


def bytes_to_unicode() -> list[str]:
    """Printable Latin-1 bytes map to themselves; the other 68 bytes to U+0100 onwards, in byte order."""
    keep = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    table = [""] * 256
    extra = 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_CHAR: list[str] = bytes_to_unicode()
CHAR_TO_BYTE: dict[str, int] = {c: b for b, c in enumerate(BYTE_TO_CHAR)}
_LATIN1_TO_BYTELEVEL = {b: c for b, c in enumerate(BYTE_TO_CHAR)}


def to_bytelevel(text: str) -> str:
    """``text``'s UTF-8 bytes spelled in the byte-level alphabet."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1").translate(_LATIN1_TO_BYTELEVEL)


def decode_tokens(tokens: list[str]) -> str:
    """HF's ByteLevel decoder: map each token back to bytes, then decode the whole as lossy UTF-8.

    A token with any character outside the byte alphabet (e.g. ``<｜User｜>``, or an added token with a
    space) contributes its own UTF-8 bytes instead, exactly as ``tokenizers`` does.
    """
    out = bytearray()
    get = CHAR_TO_BYTE.get
    for tok in tokens:
        bs = [get(c) for c in tok]
        if None in bs:
            out += tok.encode("utf-8", "surrogatepass")
        else:
            out += bytes(bs)  # type: ignore[arg-type]
    return out.decode("utf-8", "replace")
