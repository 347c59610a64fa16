"""Regenerate ``goldens.jsonl`` from HF ``tokenizers`` (the oracle) on ``corpus.jsonl``.

One line per family: a 16-hex-digit digest of the ids of every corpus string (encoded with
``add_special_tokens=False``), plus the ids of the first strings in full for readable failures. The
goldens let the exactness tests mean something where ``tokenizers`` is not installed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
FULL_IDS = 40


def load_corpus() -> list[str]:
    with (HERE / "corpus.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def digest(ids: list[int]) -> str:
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]


def load_goldens() -> dict[str, dict[str, object]]:
    out = {}
    with (HERE / "goldens.jsonl").open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                out[row["family"]] = row
    return out


def main() -> None:
    import tokenizers

    from tests.testdata import FAMILIES, tokenizer_json

    corpus = load_corpus()
    with (HERE / "goldens.jsonl").open("w", encoding="utf-8", newline="\n") as f:
        for fam in FAMILIES:
            tok = tokenizers.Tokenizer.from_file(str(tokenizer_json(fam)))
            ids = [e.ids for e in tok.encode_batch(corpus, add_special_tokens=False)]
            row = {
                "family": fam,
                "tokenizers_version": tokenizers.__version__,
                "corpus_strings": len(corpus),
                "total_tokens": sum(map(len, ids)),
                "digests": [digest(x) for x in ids],
                "first_ids": ids[:FULL_IDS],
            }
            f.write(json.dumps(row, separators=(",", ":")) + "\n")
            print(fam, row["total_tokens"])


if __name__ == "__main__":
    main()
