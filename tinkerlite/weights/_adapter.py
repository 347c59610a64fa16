"""``build_lora_adapter``: a Tinker LoRA adapter as a standard PEFT adapter for vLLM / SGLang, no merge.

The tensors are copied byte for byte; only names and the config change: ``model.unembed_tokens`` becomes
``lm_head`` (PEFT's name for the output projection), models that nest their text model get the
``model.language_model.`` prefix, and the config is PEFT's ``LoraConfig`` shape with ``target_modules``
listing every adapted module. As in the cookbook, DeepSeek V3 (``model_type=deepseek_v3``) is refused:
neither vLLM nor SGLang serves LoRA for it, so merge with :func:`~tinkerlite.weights.build_hf_model`.
Works without numpy (raw bytes only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tinkerlite.exceptions import WeightsAdapterError

from ._artifacts import load_adapter_weights, load_config_dict, resolve_model_dir
from ._export import resolve_trust_remote_code
from ._safetensors import RawTensor, read_header, save_raw

__all__ = ["build_lora_adapter"]

_UNSUPPORTED = {"deepseek_v3": "vLLM and SGLang do not support LoRA for DeepSeek V3; merge with build_hf_model"}
_SERVING_PREFIX_REMAPS = {"nemotron_h": (("base_model.model.backbone.", "base_model.model.model."),)}


def build_lora_adapter(
    *,
    base_model: str,
    adapter_path: str,
    output_path: str,
    trust_remote_code: bool | None = None,
) -> None:
    """Convert the Tinker adapter at ``adapter_path`` to PEFT format in ``output_path`` (must not exist)."""
    resolve_trust_remote_code(trust_remote_code)
    out = Path(output_path)
    if out.exists():
        raise FileExistsError(f"Output path already exists: {out}")
    weights, config = load_adapter_weights(Path(adapter_path))
    for key in ("lora_alpha", "r"):
        if key not in config:
            raise WeightsAdapterError(f"Adapter config missing required key: {key!r}")
    model_dir = resolve_model_dir(base_model)
    model_config = load_config_dict(model_dir)
    model_type = str(model_config.get("model_type", ""))
    if model_type in _UNSUPPORTED:
        raise WeightsAdapterError(
            f"LoRA adapter serving is not supported for model_type={model_type!r}: {_UNSUPPORTED[model_type]}"
        )
    keys = _model_keys(model_dir)
    converted: dict[str, RawTensor] = {}
    targets: set[str] = set()
    for name, tensor in weights.items():
        new = _peft_name(name, keys)
        for old, repl in _SERVING_PREFIX_REMAPS.get(model_type, ()):
            new = new.replace(old, repl, 1) if new.startswith(old) else new
        if new in converted:
            raise WeightsAdapterError(f"two adapter tensors map to {new!r}")
        converted[new] = tensor
        module = new.split(".lora_", 1)[0].rsplit(".", 1)[-1]
        targets.add(module)
    out.mkdir(parents=True)
    save_raw(converted, out / "adapter_model.safetensors", {"format": "pt"})
    (out / "adapter_config.json").write_text(
        json.dumps(_peft_config(config, base_model, targets), indent=2) + "\n", encoding="utf-8"
    )


def _model_keys(model_dir: Path) -> set[str]:
    from ._artifacts import weight_shards

    return {k for shard in weight_shards(model_dir) for k in read_header(shard) if k != "__metadata__"}


def _peft_name(name: str, model_keys: set[str]) -> str:
    if not name.startswith("base_model.model."):
        raise WeightsAdapterError(f"adapter key {name!r} does not start with 'base_model.model.'")
    body = name.removeprefix("base_model.model.")
    if body.startswith("model.unembed_tokens."):
        has_lm_head = any(k == "lm_head.weight" or k.endswith(".lm_head.weight") for k in model_keys)
        body = body.replace("model.unembed_tokens", "lm_head" if has_lm_head else "model.embed_tokens", 1)
    nested = any(k.startswith("model.language_model.") for k in model_keys)
    if nested and body.startswith("model.") and not body.startswith("model.language_model."):
        body = "model.language_model." + body.removeprefix("model.")
    return "base_model.model." + body


def _peft_config(config: dict[str, Any], base_model: str, targets: set[str]) -> dict[str, Any]:
    return {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": base_model,
        "r": config["r"],
        "lora_alpha": config["lora_alpha"],
        "lora_dropout": 0.0,
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "target_modules": sorted(targets),
        "modules_to_save": None,
    }
