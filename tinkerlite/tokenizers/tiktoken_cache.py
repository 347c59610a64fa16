"""Convert a tiktoken rank file once and keep the ``tokenizer.json`` on disk, keyed by content.

Conversion costs seconds; loading the cached JSON costs well under one. The key is the sha256 of the rank
file plus a digest of the special-token table and converter version, so a changed table or converter never
reuses a stale file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path

from ..errors import ValidationError
from ..utils.files import atomic_write_bytes
from .families import TIKTOKEN_FAMILIES, TiktokenFamily, family_for_sha256, guess_family_for_filename
from .tiktoken_convert import build_tokenizer_json, parse_tiktoken_ranks

__all__ = ["CONVERTER_VERSION", "cache_dir", "converted_tokenizer_json", "is_tiktoken_file", "resolve_family"]

CONVERTER_VERSION = 1
_LINE = re.compile(rb"^[A-Za-z0-9+/]+=* \d+$")


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$TINKERLITE_CACHE_DIR``, else the platform user cache + ``tinkerlite`` (same rule as the pure backend)."""
    env = os.environ if env is None else env
    if env.get("TINKERLITE_CACHE_DIR"):
        return Path(env["TINKERLITE_CACHE_DIR"]).expanduser()
    if sys.platform == "win32":
        base = env.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Caches")
    else:
        base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tinkerlite"


def is_tiktoken_file(path: Path) -> bool:
    """Tell a tiktoken rank file from a SentencePiece model (also often named ``tokenizer.model``)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    return bool(_LINE.match(first))


def resolve_family(digest: str, filename: str, family: str | None = None) -> TiktokenFamily:
    if family is not None:
        try:
            return TIKTOKEN_FAMILIES[family]
        except KeyError:
            raise ValidationError(
                f"unknown tiktoken family {family!r}; known: {sorted(TIKTOKEN_FAMILIES)}", field="family"
            ) from None
    fam = family_for_sha256(digest)
    if fam is not None:
        return fam
    fam = guess_family_for_filename(filename)
    if fam is None:
        raise ValidationError(
            f"unrecognised tiktoken rank file (sha256 {digest}); pass family= one of {sorted(TIKTOKEN_FAMILIES)}",
            field=filename,
        )
    warnings.warn(
        f"tiktoken file {filename} (sha256 {digest[:12]}…) is not a known release; assuming the {fam.name} "
        "split regex and special tokens",
        stacklevel=3,
    )
    return fam


def converted_tokenizer_json(
    path: Path,
    *,
    added_tokens_decoder: Mapping[int, tuple[str, bool]] | None = None,
    family: str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[Path, TiktokenFamily]:
    """Path of the ``tokenizer.json`` converted from the rank file at ``path`` (converting if not cached)."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    fam = resolve_family(digest, path.name, family)
    n_base = sum(1 for line in data.splitlines() if line.strip())
    added = fam.added_tokens(n_base, dict(added_tokens_decoder) if added_tokens_decoder else None)
    table = json.dumps([[a.id, a.content, a.special] for a in added], ensure_ascii=False)
    key = hashlib.sha256(f"{CONVERTER_VERSION}\0{fam.name}\0{fam.pattern}\0{table}".encode()).hexdigest()[:16]
    out = cache_dir(env) / "tokenizers" / "tiktoken" / f"{digest[:32]}-{fam.name}-{key}" / "tokenizer.json"
    if out.is_file():
        return out, fam
    doc = build_tokenizer_json(
        parse_tiktoken_ranks(data, source=str(path)),
        pattern=fam.pattern,
        added_tokens=added,
        bos_post_processor=fam.bos_token if fam.bos_post_processor else None,
    )
    atomic_write_bytes(out, json.dumps(doc, ensure_ascii=False).encode("utf-8"))
    return out, fam
