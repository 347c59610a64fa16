"""GPT-OSS merge planning: ``.attn`` -> ``.self_attn``, interleaved ``[g0, u0, g1, u1, ...]`` fused experts."""

from __future__ import annotations

from typing import Any

from ._merge import MergeProfile
from ._merge_utils import expert_layout_of, has_language_model_prefix, plan_standard_merge_ops

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


#: Standard names (after the profile's ``.attn`` remap), no fused projections: the shared standard planner.
plan_merge_ops = plan_standard_merge_ops
