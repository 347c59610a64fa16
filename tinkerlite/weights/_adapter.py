"""``build_lora_adapter``: a Tinker LoRA adapter as a standard PEFT adapter for vLLM / SGLang, no merge.

As in cookbook 0.6.1: adapter names are mapped to the model's parameter names with the family's merge
profile (:func:`~tinkerlite.weights._merge.detect_merge_profile`: ``unembed_tokens`` -> ``lm_head``, vision
prefixes, GPT-OSS ``.attn`` -> ``.self_attn``), 3-D expert tensors become per-expert 2-D keys
(``experts.w1`` -> ``experts.N.gate_proj``; a shared side is repeated), components a model fuses (Nemotron's
``gate_proj``/``x_proj`` -> ``in_proj``) become one LoRA of summed rank with a block-diagonal ``lora_B``
(``rank_pattern``/``alpha_pattern`` keep ``alpha / r``), and serving-prefix remaps apply (Nemotron
``backbone.`` -> ``model.``). Qwen3.5's split ``in_proj_q/k/v`` stay split (vLLM packs them).
DeepSeek V3 is refused: neither vLLM nor SGLang serves LoRA for it, so merge with
:func:`~tinkerlite.weights.build_hf_model`. Tensors are copied as bytes; only fused projections need numpy.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

from tinkerlite.exceptions import WeightsAdapterError

from ._artifacts import load_adapter_weights, load_config_dict, resolve_model_dir, weight_shards
from ._export import resolve_trust_remote_code
from ._safetensors import DTYPE_SIZES, RawTensor, read_header, save_raw

__all__ = ["build_lora_adapter"]

logger = logging.getLogger(__name__)

_UNSUPPORTED_MODEL_TYPES = {
    "deepseek_v3": (
        "DeepSeek V3/V3.1 (model_type='deepseek_v3') does not support LoRA adapter serving in vLLM or SGLang. "
        "Use build_hf_model to merge the adapter into a full HF model instead."
    ),
}
_SERVING_PREFIX_REMAPS = {"nemotron_h": (("backbone.", "model."),)}


def build_lora_adapter(
    *,
    base_model: str,
    adapter_path: str,
    output_path: str,
    trust_remote_code: bool | None = None,
) -> None:
    """Convert the Tinker adapter at ``adapter_path`` to PEFT format in ``output_path`` (must not exist).

    Raises FileNotFoundError (missing files), FileExistsError (output exists), WeightsAdapterError (an
    unsupported family, or keys that cannot be mapped).
    """
    from ._merge import detect_merge_profile

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
    if model_type in _UNSUPPORTED_MODEL_TYPES:
        raise WeightsAdapterError(_UNSUPPORTED_MODEL_TYPES[model_type])
    shapes = _model_shapes(model_dir)
    profile = detect_merge_profile(model_config, set(shapes))
    if any(".experts" in k for k in weights) and profile.model_family != "gpt_oss":
        logger.warning("MoE expert LoRA serving for %s models is experimental in vLLM", profile.model_family)
    peft, targets, rank_overrides = _convert_adapter(weights, shapes, profile)
    for old, new in _SERVING_PREFIX_REMAPS.get(model_type, ()):
        peft = {k.replace(old, new): v for k, v in peft.items()}
    try:
        out.mkdir(parents=True)
        save_raw(peft, out / "adapter_model.safetensors", {"format": "pt"})
        peft_config = _build_peft_config(config, base_model, targets, rank_overrides)
        (out / "adapter_config.json").write_text(json.dumps(peft_config, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise


def _model_shapes(model_dir: Path) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for shard in weight_shards(model_dir):
        for key, info in read_header(shard).items():
            if key != "__metadata__":
                shapes[key] = tuple(info["shape"])
    return shapes


def _expert_slices(t: RawTensor, n: int) -> list[RawTensor]:
    """The ``n`` per-expert 2-D slices of a 3-D tensor (a leading 1 is repeated): contiguous byte ranges."""
    if len(t.shape) != 3:
        raise WeightsAdapterError(f"Expert LoRA weights must be 3D, got shape {t.shape}")
    step = t.shape[1] * t.shape[2] * DTYPE_SIZES[t.dtype]
    if t.shape[0] == 1:
        return [RawTensor(t.dtype, t.shape[1:], t.data)] * n
    return [RawTensor(t.dtype, t.shape[1:], t.data[i * step : (i + 1) * step]) for i in range(n)]


def _add(peft: dict[str, RawTensor], targets: set[str], target_key: str, a: RawTensor, b: RawTensor) -> None:
    module = target_key.removesuffix(".weight")
    key_a, key_b = f"base_model.model.{module}.lora_A.weight", f"base_model.model.{module}.lora_B.weight"
    if key_a in peft:
        raise WeightsAdapterError(
            f"Duplicate PEFT key: {key_a!r}. Two adapter weights mapped to the same target "
            "(a misconfigured adapter or an unsupported architecture)."
        )
    peft[key_a], peft[key_b] = a, b
    targets.add(module.rsplit(".", 1)[-1])


def _convert_adapter(
    weights: dict[str, RawTensor], shapes: dict[str, tuple[int, ...]], profile: Any
) -> tuple[dict[str, RawTensor], list[str], dict[str, int]]:
    from ._merge_qwen3_5 import build_qwen3_5_name_remaps
    from ._merge_utils import build_name_remaps, extract_adapter_weight_names, remap_adapter_name

    keys = set(shapes)
    remaps = (build_qwen3_5_name_remaps if profile.split_qkv_projections else build_name_remaps)(profile, keys)
    component_of = {comp: target for target, comps in profile.fused_projection_map for comp in comps}
    peft: dict[str, RawTensor] = {}
    targets: set[str] = set()
    pending: dict[tuple[str, str], dict[str, tuple[RawTensor, RawTensor]]] = {}
    for n in extract_adapter_weight_names(weights):
        a_key, b_key = n.replace(".weight", ".lora_A.weight"), n.replace(".weight", ".lora_B.weight")
        if b_key not in weights:
            raise WeightsAdapterError(f"Adapter weight {a_key!r} has no matching {b_key!r}")
        a, b = weights[a_key], weights[b_key]
        target = remap_adapter_name(n, remaps)
        for old, new in profile.extra_key_remaps:
            target = target.replace(old, new)
        if ".experts" in n:
            if not a.data and not b.data:
                continue  # an empty placeholder (Nemotron's w3)
            for old, new in profile.expert_key_remaps:
                target = target.replace(old, new)
            if len(a.shape) != 3 or len(b.shape) != 3:
                raise WeightsAdapterError(f"Expert LoRA weights must be 3D, got {a.shape} and {b.shape} for {n!r}")
            count = max(a.shape[0], b.shape[0])
            if a.shape[0] not in (1, count) or b.shape[0] not in (1, count) or a.shape[0] == b.shape[0] == 1:
                raise WeightsAdapterError(f"Expert count mismatch for {n!r}: {a.shape} vs {b.shape}")
            for e, (ea, eb) in enumerate(zip(_expert_slices(a, count), _expert_slices(b, count), strict=True)):
                _add(peft, targets, target.replace(".experts", f".experts.{e}"), ea, eb)
            continue
        leaf = target.removesuffix(".weight").rsplit(".", 1)[-1]
        if leaf in component_of:
            prefix = target.removesuffix(f".{leaf}.weight")
            pending.setdefault((prefix, component_of[leaf]), {})[leaf] = (a, b)
        else:
            _add(peft, targets, target, a, b)
    rank_overrides: dict[str, int] = {}
    for (prefix, fused), comps in pending.items():
        rank_overrides[fused] = _merge_fused(prefix, fused, comps, shapes, profile, peft, targets)
    if not peft:
        raise WeightsAdapterError("No LoRA weights found in adapter. Check that the adapter path points to a "
                                  "valid Tinker LoRA adapter.")  # fmt: skip
    return peft, sorted(targets), rank_overrides


def _merge_fused(
    prefix: str,
    fused: str,
    comps: dict[str, tuple[RawTensor, RawTensor]],
    shapes: dict[str, tuple[int, ...]],
    profile: Any,
    peft: dict[str, RawTensor],
    targets: set[str],
) -> int:
    """Components of one fused module as one LoRA: A stacked by rank, B block-diagonal in the fused rows."""
    from ._merge import numpy

    np = numpy()
    layer = re.search(r"\.layers\.(\d+)\.", prefix)
    suffix = f".{fused}.weight"
    model_key = next((k for k in sorted(shapes) if layer and f".layers.{layer.group(1)}." in k and k.endswith(suffix)),
                     None)  # fmt: skip
    if model_key is None:
        raise WeightsAdapterError(
            f"Cannot find model state key matching layer prefix {prefix!r} with suffix {suffix!r}."
        )
    order = next(c for t, c in profile.fused_projection_map if t == fused)
    missing = [c for c in order if c not in comps]
    if missing:
        raise WeightsAdapterError(f"Missing component {missing[0]!r} for fused target {model_key!r}. Expected {order}")
    a_parts = [comps[c][0].to_numpy() for c in order]
    b_parts = [comps[c][1].to_numpy() for c in order]
    rank = sum(a.shape[0] for a in a_parts)
    merged_b = np.zeros((shapes[model_key][0], rank), dtype=b_parts[0].dtype)
    row = col = 0
    for a, b in zip(a_parts, b_parts, strict=True):
        merged_b[row : row + b.shape[0], col : col + a.shape[0]] = b
        row, col = row + b.shape[0], col + a.shape[0]
    dtype = comps[order[0]][0].dtype
    merged_a = RawTensor.from_numpy(np.concatenate(a_parts, axis=0), dtype=dtype)
    _add(peft, targets, f"{prefix}.{fused}.weight", merged_a, RawTensor.from_numpy(merged_b, dtype=dtype))
    return int(rank)


def _build_peft_config(
    config: dict[str, Any], base_model: str, targets: list[str], rank_overrides: dict[str, int]
) -> dict[str, Any]:
    base_rank, base_alpha = config["r"], config["lora_alpha"]
    return {
        "peft_type": "LORA",
        "auto_mapping": None,
        "base_model_name_or_path": base_model,
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "lora_alpha": base_alpha,
        "lora_dropout": 0.0,
        "modules_to_save": None,
        "r": base_rank,
        "rank_pattern": dict(rank_overrides),
        "alpha_pattern": {m: int(base_alpha * r / base_rank) for m, r in rank_overrides.items()},
        "target_modules": targets,
        "task_type": "CAUSAL_LM",
    }
