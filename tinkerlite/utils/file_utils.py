"""The cookbook's ``utils.file_utils``: read a JSONL file whole (every line one JSON object).

For run logs that may end in a torn line after a crash, :func:`tinkerlite.utils.files.read_jsonl` is the
tolerant reader; this one is the cookbook's strict one.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["read_jsonl"]


def read_jsonl(path: str) -> list[dict[str, Any]]:
    """One parsed object per line (a malformed line raises ``json.JSONDecodeError``)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]
