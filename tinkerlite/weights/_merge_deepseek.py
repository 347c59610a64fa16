"""DeepSeek V3 merge planning: standard names, always separate per-expert weights (``model_type=deepseek_v3``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._merge import MergeOp, MergeProfile
from ._merge_utils import (
    adapter_matrices,
    build_name_remaps,
    extract_adapter_weight_names,
    plan_expert_ops,
    plan_standard_op,
    remap_adapter_name,
    validate_adapter_config,
)

__all__ = ["detect_profile", "plan_merge_ops"]


def detect_profile(model_config: dict[str, Any], model_state_keys: set[str]) -> MergeProfile | None:
    if model_config.get("model_type") not in ("deepseek_v3",):
        return None
    return MergeProfile(
        model_family="deepseek",
        expert_layout="separate",
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
            plan_standard_op(target, a, b, n, profile, model_state_keys, ops)
        else:
            plan_expert_ops(target, a, b, n, profile, model_state_keys, ops)
    return ops
