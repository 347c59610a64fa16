"""DeepSeek V3 merge planning: standard names, always separate per-expert weights (``model_type=deepseek_v3``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._merge import MergeOp, MergeProfile
from ._merge_utils import build_name_remaps, has_language_model_prefix, plan_lora_ops, remap_adapter_name

__all__ = ["detect_profile", "plan_merge_ops"]


def detect_profile(model_config: dict[str, Any], model_state_keys: set[str]) -> MergeProfile | None:
    if model_config.get("model_type") not in ("deepseek_v3",):
        return None
    return MergeProfile(
        model_family="deepseek",
        expert_layout="separate",
        has_language_model_prefix=has_language_model_prefix(model_state_keys),
    )


def plan_merge_ops(
    adapter_weights: Mapping[str, Any],
    adapter_config: Mapping[str, Any],
    model_state_keys: set[str],
    profile: MergeProfile,
) -> dict[str, list[MergeOp]]:
    remaps = build_name_remaps(profile, model_state_keys)
    return plan_lora_ops(
        adapter_weights, adapter_config, model_state_keys, profile, lambda n: remap_adapter_name(n, remaps)
    )
