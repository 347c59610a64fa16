"""The backend works with the optional packages made unimportable (the Pyodide/musl situation)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.testdata import need, tokenizer_json

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
for name in ("tokenizers", "orjson", "numpy", "regex", "zstandard"):
    sys.modules[name] = None  # import of any of them now raises ImportError
from tinkerlite.tokenizers.pure import PureTokenizer
tok = PureTokenizer.from_file(sys.argv[1])
ids = tok.encode("Hello world<|im_end|> \\u4e2d\\u6587 I'M 12345")
print(ids, tok.decode(ids) == "Hello world<|im_end|> \\u4e2d\\u6587 I'M 12345")
"""


def test_no_optional_packages(tmp_path: Path) -> None:
    path = need(tokenizer_json, "qwen3")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TINKERLITE_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path)], env=env, capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    assert out.startswith("[9707, 1879, 151645, ") and out.endswith(" True"), out
    assert list(tmp_path.glob("unicode-ranges-*.json")), "the Unicode tables cache was not written"
