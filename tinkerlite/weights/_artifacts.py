"""Finding and reading model and adapter directories (HF layout) without transformers or the hub.

A base model is a local directory, or an HF cache entry (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else
``~/.cache/huggingface/hub``: ``models--org--name/snapshots/<refs/main>``). tinkerlite never downloads
base weights: the hub is not reachable from every machine it runs on, and the message says where to put
them. For a stand-in trained on the local server, ``tinkerlite.local.hf_format.export_base_model(name, dir)``
writes its base directory.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from tinkerlite.exceptions import WeightsMergeError

from ._safetensors import RawTensor, load_raw

__all__ = [
    "ADAPTER_CONFIG",
    "ADAPTER_WEIGHTS",
    "copy_artifact_file",
    "hf_cache_dir",
    "load_adapter_weights",
    "load_config_dict",
    "resolve_model_dir",
    "weight_shards",
]

ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
_INDEX = "model.safetensors.index.json"


def hf_cache_dir() -> Path:
    explicit = os.environ.get("HF_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".cache" / "huggingface") / "hub"


def resolve_model_dir(base_model: str) -> Path:
    """The local directory holding ``base_model``'s config and weights."""
    p = Path(base_model).expanduser()
    if p.is_dir():
        return p
    repo = hf_cache_dir() / ("models--" + base_model.split(":", 1)[0].replace("/", "--"))
    ref = repo / "refs" / "main"
    if ref.is_file():
        snap = repo / "snapshots" / ref.read_text(encoding="utf-8").strip()
        if snap.is_dir():
            return snap
    raise FileNotFoundError(
        f"base model {base_model!r} is neither a local directory nor in the HF cache ({repo}); tinkerlite does "
        "not download base weights: pass a local HF model directory (config.json + *.safetensors). For a LoRA "
        "trained on tinkerlite's local server, write the stand-in's base first with "
        f"tinkerlite.local.hf_format.export_base_model({base_model!r}, DIR)"
    )


def load_config_dict(model_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``config.json`` of a model directory, as a dict."""
    path = Path(model_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"No config.json found in {model_dir}. Ensure this is a valid HuggingFace model directory."
        )
    obj = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(obj, dict):
        raise WeightsMergeError(f"{path}: config.json must hold a JSON object")
    return obj


def weight_shards(model_dir: Path) -> list[Path]:
    """The safetensors files of a model: those of the index, else ``model.safetensors``, else ``*.safetensors``."""
    index = model_dir / _INDEX
    if index.is_file():
        weight_map = json.loads(index.read_text(encoding="utf-8")).get("weight_map", {})
        return [model_dir / name for name in sorted(set(weight_map.values()))]
    single = model_dir / "model.safetensors"
    if single.is_file():
        return [single]
    shards = sorted(p for p in model_dir.glob("*.safetensors") if p.name != ADAPTER_WEIGHTS)
    if not shards:
        raise FileNotFoundError(
            f"no *.safetensors weights in {model_dir} (tinkerlite reads safetensors only, not .bin)"
        )
    return shards


def load_adapter_weights(adapter_dir: Path) -> tuple[dict[str, RawTensor], dict[str, Any]]:
    """The adapter's tensors and its ``adapter_config.json``."""
    weights_path, config_path = adapter_dir / ADAPTER_WEIGHTS, adapter_dir / ADAPTER_CONFIG
    for p in (weights_path, config_path):
        if not p.is_file():
            raise FileNotFoundError(
                f"adapter file not found: {p} (an adapter directory holds {ADAPTER_WEIGHTS} "
                f"and {ADAPTER_CONFIG}, as weights.download writes them)"
            )
    tensors, _ = load_raw(weights_path)
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if not isinstance(config, dict):
        raise WeightsMergeError(f"{config_path}: must hold a JSON object")
    return tensors, config


def copy_artifact_file(src: Path, dst_dir: Path) -> None:
    """Copy one non-weight file (config, tokenizer, chat template, ...) into the output directory."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst_dir / src.name)
