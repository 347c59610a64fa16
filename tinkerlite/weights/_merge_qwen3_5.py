"""Qwen3.5 / Qwen3.6 merge planning: split ``in_proj_q/k/v`` adapters into the fused ``in_proj_qkv`` (Q‖K‖V rows).

Row offsets come from the sibling ``lora_B`` shapes (Q, K, V may differ in size); all three must be present.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tinkerlite.exceptions import WeightsMergeError

from ._merge import MergeOp, MergeProfile
from ._merge_utils import expert_layout_of, has_language_model_prefix, plan_lora_ops, remap_adapter_name

__all__ = ["SPLIT_QKV_SUFFIXES", "build_qwen3_5_name_remaps", "detect_profile", "plan_merge_ops"]

SPLIT_QKV_SUFFIXES: dict[str, str] = {".in_proj_q.weight": "q", ".in_proj_k.weight": "k", ".in_proj_v.weight": "v"}


def detect_profile(model_config: dict[str, Any], model_state_keys: set[str]) -> MergeProfile | None:
    if model_config.get("model_type") not in ("qwen3_5", "qwen3_5_moe"):
        return None
    return MergeProfile(
        model_family="qwen3_5",
        expert_layout=expert_layout_of(model_state_keys, "fused_concatenated"),
        has_language_model_prefix=has_language_model_prefix(model_state_keys),
        split_qkv_projections=True,
    )


def build_qwen3_5_name_remaps(profile: MergeProfile, model_state_keys: set[str]) -> list[tuple[str, str]]:
    """Vision prefix first; ``unembed_tokens`` -> top-level ``lm_head``, or ``embed_tokens`` when tied."""
    remaps = [("base_model.model.", "")]
    if profile.has_language_model_prefix:
        remaps.append(("model.", "model.language_model."))
        if any(k == "lm_head.weight" or k.startswith("lm_head.") for k in model_state_keys):
            remaps.append(("model.language_model.unembed_tokens", "lm_head"))
        else:
            remaps.append(("model.language_model.unembed_tokens", "model.language_model.embed_tokens"))
    else:
        remaps.append(("model.unembed_tokens", "lm_head"))
    return remaps


def _plan_split_qkv_op(
    target_key: str,
    lora_A: Any,
    lora_B: Any,
    adapter_name: str,
    adapter_weights: Mapping[str, Any],
    model_state_keys: set[str],
    ops: dict[str, list[MergeOp]],
) -> bool:
    match = next(((s, r) for s, r in SPLIT_QKV_SUFFIXES.items() if target_key.endswith(s)), None)
    if match is None:
        return False
    suffix, role = match
    fused_key = target_key[: -len(suffix)] + ".in_proj_qkv.weight"
    if fused_key not in model_state_keys:
        return False
    prefix = adapter_name[: -len(suffix)]
    q_key, k_key = prefix + ".in_proj_q.lora_B.weight", prefix + ".in_proj_k.lora_B.weight"
    if q_key not in adapter_weights or k_key not in adapter_weights:
        raise WeightsMergeError(
            "Split QKV fusion requires all three in_proj_q/k/v adapters for the same layer, but sibling "
            f"weights are missing for {adapter_name!r}"
        )
    q_rows, k_rows = adapter_weights[q_key].shape[0], adapter_weights[k_key].shape[0]
    start = {"q": 0, "k": q_rows, "v": q_rows + k_rows}[role]
    ops.setdefault(fused_key, []).append(
        MergeOp(fused_key, lora_A, lora_B, slice_start=start, adapter_name=adapter_name)
    )
    return True


def plan_merge_ops(
    adapter_weights: Mapping[str, Any],
    adapter_config: Mapping[str, Any],
    model_state_keys: set[str],
    profile: MergeProfile,
) -> dict[str, list[MergeOp]]:
    remaps = build_qwen3_5_name_remaps(profile, model_state_keys)

    def split_qkv(target: str, a: Any, b: Any, n: str, ops: dict[str, list[MergeOp]]) -> bool:
        return _plan_split_qkv_op(target, a, b, n, adapter_weights, model_state_keys, ops)

    return plan_lora_ops(
        adapter_weights, adapter_config, model_state_keys, profile, lambda n: remap_adapter_name(n, remaps), split_qkv
    )
