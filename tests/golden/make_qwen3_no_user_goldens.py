"""Goldens for Qwen's thinking-disabled renderers on conversations with no user message (issue 14).

The cookbook's ``Qwen3DisableThinkingRenderer`` refuses to train a produced turn when no user message exists
(the template writes no empty think block there, but the generation prompt always opens one). This records
what the cookbook 0.6.1 does on such conversations -- generation prompt, every TrainOnWhat, split examples --
so tinkerlite is held to it. Run in the cookbook venv of ``make_renderer_goldens.py``::

    ~/.cache/tinkerlite/official-venvs/cookbook-0.6.1/bin/python tests/golden/make_qwen3_no_user_goldens.py
"""

# mypy: disable-error-code="import-not-found,import-untyped"
from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "qwen3_no_user_goldens.json"
sys.path.insert(0, str(ROOT))
from tests.golden.make_renderer_goldens import _load_tokenizers, _render_all, _think  # noqa: E402

RENDERERS = ["qwen3_disable_thinking", "qwen3_5_disable_thinking", "qwen3_8_disable_thinking", "qwen3"]
CONVERSATIONS: list[dict[str, Any]] = [
    {
        "id": "system_assistant",
        "messages": [{"role": "system", "content": "Speak."}, {"role": "assistant", "content": "Hi."}],
    },
    {"id": "assistant_only", "messages": [{"role": "assistant", "content": "Hi."}]},
    {"id": "empty_assistant", "messages": [{"role": "system", "content": "S"}, {"role": "assistant", "content": ""}]},
    {
        "id": "thinking_assistant",
        "messages": [{"role": "system", "content": "S"}, {"role": "assistant", "content": _think("t", "x")}],
    },
    {
        "id": "two_assistants",
        "messages": [
            {"role": "system", "content": "S"},
            {"role": "assistant", "content": "A1"},
            {"role": "assistant", "content": "A2"},
        ],
    },
    {
        "id": "customized_no_user",
        "messages": [
            {"role": "system", "content": "S", "trainable": False},
            {"role": "assistant", "content": "x", "trainable": True},
        ],
    },
    {
        "id": "tool_then_assistant",
        "messages": [
            {"role": "system", "content": "S"},
            {"role": "tool", "content": "42", "tool_call_id": "c1", "name": "f"},
            {"role": "assistant", "content": "It is 42."},
        ],
    },
]


def main() -> None:
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    from tinker_cookbook.renderers import get_renderer

    tok = _load_tokenizers(None)["qwen3"]
    docs = []
    for name in RENDERERS:
        renderer = get_renderer(name, tok, model_name="qwen3")
        docs.append({"renderer": name, "records": [_render_all(renderer, c) for c in CONVERSATIONS]})
    doc = {
        "generator": "tests/golden/make_qwen3_no_user_goldens.py",
        "tokenizer_family": "qwen3",
        "conversations": CONVERSATIONS,
        "renderers": docs,
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
