"""Pure-Python tokenizer vs HF ``tokenizers``: tokens/s single-threaded, load and table-construction time.

Usage (test data from ``python -m tests.testdata``)::

    python bench/bench_pure_tokenizer.py [--families llama3,qwen3,...] [--repeat 20] [--stdlib-mb 2]

Two texts: the exactness corpus repeated ``--repeat`` times (a chat-like mix; after warm-up mostly word
cache hits), and ``--stdlib-mb`` MB of the running Python's own stdlib sources (real code and prose; far
fewer repeats). HF runs with ``RAYON_NUM_THREADS=1`` and is called one string at a time, as the pure
backend is. "warm" is the second pass over the same text; "cold" the first pass on a fresh tokenizer.
Times are CPU seconds of this process (``time.process_time``), not wall time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers is imported: single-threaded comparison
os.environ["TOKENIZERS_PARALLELISM"] = "false"

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pure_tokenizer.make_goldens import load_corpus  # noqa: E402
from tests.testdata import FAMILIES, tokenizer_json  # noqa: E402
from tinkerlite.tokenizers.pure import PureTokenizer  # noqa: E402


def stdlib_text(megabytes: float) -> list[str]:
    """Deterministic real text: the stdlib's .py files in sorted order, split into ~4 KB documents."""
    budget = int(megabytes * 1_000_000)
    docs: list[str] = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py")):
        if "test" in path.parts or "site-packages" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        docs.extend(text[i : i + 4096] for i in range(0, len(text), 4096))
        budget -= len(text)
        if budget <= 0:
            break
    return docs


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    """CPU seconds of this process: on a shared, oversubscribed machine wall time mostly measures others."""
    t0 = time.process_time()
    out = fn(*args)
    return time.process_time() - t0, out


def bench_family(family: str, texts: dict[str, list[str]]) -> None:
    import tokenizers

    path = tokenizer_json(family)
    t_hf_load, hf = timed(tokenizers.Tokenizer.from_file, str(path))
    t_pure_load, pure = timed(PureTokenizer.from_file, path)  # tables are warm here: see bench_tables
    print(f"\n== {family}: load {t_pure_load:.2f} s pure vs {t_hf_load:.2f} s HF")
    for name, docs in texts.items():
        def hf_run(docs: list[str] = docs) -> int:
            return sum(len(hf.encode(s, add_special_tokens=False).ids) for s in docs)

        fresh = PureTokenizer.from_file(path)
        t_cold, n_cold = timed(fresh.encode_batch, docs)
        pure.encode_batch(docs)  # warm-up pass (fills the word cache), as for HF below
        t_warm, ids = timed(pure.encode_batch, docs)
        hf_run()
        t_hf, n_hf = timed(hf_run)
        # Keyword, not positional: HF's second positional parameter is is_pretokenized.
        t_hf_batch, hf_batch = timed(lambda d=docs: hf.encode_batch(d, add_special_tokens=False))
        n = sum(map(len, ids))
        assert n == n_hf == sum(map(len, n_cold)), "token counts differ: run the exactness tests"
        assert [e.ids for e in hf_batch] == [list(x) for x in ids], "HF encode_batch ids differ from the pure ones"
        pure_tps, cold_tps, hf_tps, hfb_tps = n / t_warm, n / t_cold, n / t_hf, n / t_hf_batch
        print(
            f"  {name:14s} {n:>9,d} tokens | pure warm {pure_tps:>10,.0f}, cold {cold_tps:>10,.0f} tok/s"
            f" | HF encode {hf_tps:>10,.0f}, encode_batch {hfb_tps:>10,.0f} tok/s"
            f" | pure/HF(encode) warm {pure_tps / hf_tps:.2f}x, cold {cold_tps / hf_tps:.2f}x"
        )


_TABLES_SNIPPET = """
import time, json, sys
t0 = time.process_time()
from tinkerlite.tokenizers.pure import _unicode
from tinkerlite.tokenizers.pure._regex import compile_pattern
t1 = time.process_time()
_unicode.load_tables()
t2 = time.process_time()
for p in json.loads(sys.argv[1]):
    compile_pattern(p)
t3 = time.process_time()
print(json.dumps({"import": t1 - t0, "tables": t2 - t1, "regex": t3 - t2}))
"""


def bench_tables(families: list[str]) -> None:
    """First use in a fresh process: Unicode tables (cold = no cache file) + translate/compile the regexes."""
    import json

    print("\n== first use in a fresh process, CPU s (tables = Unicode range tables; regex = translate +"
          " re.compile of the family's split patterns)")
    for fam in families:
        patterns = family_patterns([fam])
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "TINKERLITE_CACHE_DIR": tmp, "PYTHONPATH": str(ROOT)}
            cells = []
            for label in ("no cache", "cache"):
                out = subprocess.run(
                    [sys.executable, "-c", _TABLES_SNIPPET, json.dumps(patterns)],
                    env=env, capture_output=True, text=True, check=True,
                ).stdout
                r = json.loads(out)
                cells.append(f"{label}: {r['tables']:.3f} + {r['regex']:.3f} = {r['tables'] + r['regex']:.3f} s")
            print(f"  {fam:12s} " + " | ".join(cells))


def family_patterns(families: list[str]) -> list[str]:
    import json

    pats: list[str] = []
    for fam in families:
        doc = json.loads(tokenizer_json(fam).read_text(encoding="utf-8"))
        stack = [doc.get("pre_tokenizer")]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if node.get("type") == "Split" and "Regex" in node.get("pattern", {}):
                    pats.append(node["pattern"]["Regex"])
                stack.extend(node.get("pretokenizers", []))
    return pats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--stdlib-mb", type=float, default=2.0)
    args = ap.parse_args()
    families = args.families.split(",")
    import tokenizers

    print(f"Python {sys.version.split()[0]}, tokenizers {tokenizers.__version__}, single-threaded")
    bench_tables(families)
    texts = {
        f"corpus x{args.repeat}": load_corpus() * args.repeat,
        "stdlib source": stdlib_text(args.stdlib_mb),
    }
    for name, docs in texts.items():
        print(f"text {name!r}: {len(docs)} documents, {sum(map(len, docs)):,} characters")
    for fam in families:
        bench_family(fam, texts)


if __name__ == "__main__":
    main()
