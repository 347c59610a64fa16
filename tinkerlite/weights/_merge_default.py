"""Default merge planning (Qwen3, Llama, Qwen3-VL, Nemotron-H via its profile, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._merge import MergeOp, MergeProfile
from ._merge_utils import (
    adapter_matrices,
    build_name_remaps,
    extract_adapter_weight_names,
    plan_expert_ops,
    plan_fused_projection_op,
    plan_standard_op,
    remap_adapter_name,
    validate_adapter_config,
)

__all__ = ["detect_profile", "plan_merge_ops"]


def detect_profile(model_config: dict[str, Any], model_state_keys: set[str]) -> MergeProfile:
    """Fused concatenated experts when ``experts.gate_up_proj`` exists; the vision prefix from the names."""
    return MergeProfile(
        model_family="default",
        expert_layout="fused_concatenated"
        if any(k.endswith(".experts.gate_up_proj") for k in model_state_keys)
        else "separate",
        has_language_model_prefix=any(k.startswith("model.language_model.") for k in model_state_keys),
    )


def plan_merge_ops(
    adapter_weights: Mapping[str, Any],
    adapter_config: Mapping[str, Any],
    model_state_keys: set[str],
    profile: MergeProfile,
) -> dict[str, list[MergeOp]]:
    scale = validate_adapter_config(adapter_config, profile)
    remaps = build_name_remaps(profile, model_state_keys)
    ops: dict[str, list[MergeOp]] = {}
    for n in extract_adapter_weight_names(adapter_weights):
        target = remap_adapter_name(n, remaps)
        a, b = adapter_matrices(adapter_weights, n, scale)
        if ".experts" not in n:
            if plan_fused_projection_op(target, a, b, n, adapter_weights, profile, model_state_keys, ops):
                continue
            plan_standard_op(target, a, b, n, profile, model_state_keys, ops)
        else:
            plan_expert_ops(target, a, b, n, profile, model_state_keys, ops)
    return ops
