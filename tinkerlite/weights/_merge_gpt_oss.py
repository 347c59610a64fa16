"""GPT-OSS merge planning: ``.attn`` -> ``.self_attn``, interleaved ``[g0, u0, g1, u1, ...]`` fused experts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._merge import MergeOp, MergeProfile
from ._merge_utils import (
    build_name_remaps,
    expert_layout_of,
    has_language_model_prefix,
    plan_lora_ops,
    remap_adapter_name,
)

__all__ = ["detect_profile", "plan_merge_ops"]


def detect_profile(model_config: dict[str, Any], model_state_keys: set[str]) -> MergeProfile | None:
    if not any("GptOss" in a for a in model_config.get("architectures", []) or []):
        return None
    return MergeProfile(
        model_family="gpt_oss",
        expert_layout=expert_layout_of(model_state_keys, "fused_interleaved"),
        extra_key_remaps=((".attn", ".self_attn"),),
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
