"""The data view: a run's training examples as the model sees them, one entry per token with its weight.

The same rendering ``tinkerlite inspect`` prints in the terminal (:func:`tinkerlite.display.colorize_example`),
but per token so the page can colour each one and show the special tokens the renderer inserted. The examples
come from the run's ``config.json``: its dataset builder's ``file_path`` (a conversation JSONL), model and
renderer; a run whose data is not a file (an RL environment, a Hugging Face dataset) says so instead.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["data_source", "render_examples"]


def _dig(config: dict[str, Any], key: str) -> Any:
    """``key`` from the config, its dataset builder or the builder's ``common_config`` (cookbook nesting)."""
    ds = config.get("dataset_builder")
    for where in (config, ds if isinstance(ds, dict) else {}, (ds or {}).get("common_config") or {}):
        if isinstance(where, dict) and where.get(key) is not None:
            return where[key]
    return None


def data_source(config: dict[str, Any] | None) -> dict[str, Any]:
    """Where the examples come from: file, model, renderer, train_on_what, max_length (or why there are none)."""
    if not config:
        return {"available": False, "reason": "no config.json in this run dir"}
    path = _dig(config, "file_path")
    model = _dig(config, "model_name_for_tokenizer") or config.get("model_name")
    if not isinstance(path, str):
        builder = (config.get("dataset_builder") or {}).get("__class__") or "unknown"
        return {"available": False, "reason": f"the dataset ({builder}) is not a conversation file"}
    if not os.path.isfile(path):
        return {"available": False, "reason": f"{path}: the run's data file is not on this machine"}
    return {
        "available": True,
        "file_path": path,
        "model_name": model,
        "renderer_name": _dig(config, "renderer_name"),
        "train_on_what": _dig(config, "train_on_what"),
        "max_length": _dig(config, "max_length"),
    }


def render_examples(config: dict[str, Any] | None, n: int = 4, start: int = 0) -> dict[str, Any]:
    """Up to ``n`` conversations from the run's data file, each as ``[{"t": text, "w": weight, "id": token}]``."""
    src = data_source(config)
    if not src["available"]:
        return {**src, "examples": []}
    from ..model_info import get_recommended_renderer_name
    from ..renderers import TrainOnWhat, get_renderer
    from ..supervised.data import conversation_to_datum, read_conversation_file
    from ..tokenizers import get_tokenizer
    from ..types import EncodedTextChunk

    tokenizer = get_tokenizer(src["model_name"])
    renderer_name = src["renderer_name"] or get_recommended_renderer_name(src["model_name"])
    renderer = get_renderer(renderer_name, tokenizer)
    tow = TrainOnWhat(src["train_on_what"]) if src["train_on_what"] else None
    examples: list[dict[str, Any]] = []
    for i, (line, messages) in enumerate(read_conversation_file(src["file_path"])):
        if i < start:
            continue
        if len(examples) >= n:
            break
        datum = conversation_to_datum(messages, renderer, src["max_length"], tow, reduction="none")
        tokens: list[int] = []
        for c in datum.model_input.chunks:
            tokens.extend(c.tokens if isinstance(c, EncodedTextChunk) else [0] * c.length)
        targets = datum.loss_fn_inputs["target_tokens"].data
        if targets:
            tokens.append(int(targets[-1]))
        weights = [0.0] + [float(w) for w in datum.loss_fn_inputs["weights"].data]
        examples.append(
            {
                "line": line,
                "n_tokens": len(tokens),
                "n_trained": sum(1 for w in weights if w > 0),
                "tokens": [{"id": t, "t": tokenizer.decode([t]), "w": w} for t, w in zip(tokens, weights, strict=True)],
            }
        )
    return {**src, "renderer_name": renderer_name, "examples": examples}
