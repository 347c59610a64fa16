"""Default merge planning (Qwen3, Llama, Qwen3-VL, Nemotron-H via its profile, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._merge import MergeOp, MergeProfile
from ._merge_utils import (
    build_name_remaps,
    expert_layout_of,
    has_language_model_prefix,
    plan_fused_projection_op,
    plan_lora_ops,
    remap_adapter_name,
)

__all__ = ["detect_profile", "plan_merge_ops"]


def detect_profile(model_config: dict[str, Any], model_state_keys: set[str]) -> MergeProfile:
    """Fused concatenated experts when ``experts.gate_up_proj`` exists; the vision prefix from the names."""
    return MergeProfile(
        model_family="default",
        expert_layout=expert_layout_of(model_state_keys, "fused_concatenated"),
        has_language_model_prefix=has_language_model_prefix(model_state_keys),
    )


def plan_merge_ops(
    adapter_weights: Mapping[str, Any],
    adapter_config: Mapping[str, Any],
    model_state_keys: set[str],
    profile: MergeProfile,
) -> dict[str, list[MergeOp]]:
    remaps = build_name_remaps(profile, model_state_keys)

    def fused(target: str, a: Any, b: Any, n: str, ops: dict[str, list[MergeOp]]) -> bool:
        return plan_fused_projection_op(target, a, b, n, adapter_weights, profile, model_state_keys, ops)

    return plan_lora_ops(
        adapter_weights, adapter_config, model_state_keys, profile, lambda n: remap_adapter_name(n, remaps), fused
    )
