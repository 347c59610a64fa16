"""DeepSeek V3 merge planning: standard names, always separate per-expert weights (``model_type=deepseek_v3``)."""

from __future__ import annotations

from typing import Any

from ._merge import MergeProfile
from ._merge_utils import has_language_model_prefix, plan_standard_merge_ops

__all__ = ["detect_profile", "plan_merge_ops"]


def detect_profile(model_config: dict[str, Any], model_state_keys: set[str]) -> MergeProfile | None:
    if model_config.get("model_type") not in ("deepseek_v3",):
        return None
    return MergeProfile(
        model_family="deepseek",
        expert_layout="separate",
        has_language_model_prefix=has_language_model_prefix(model_state_keys),
    )


#: Standard names, no fused projections: the shared standard planner.
plan_merge_ops = plan_standard_merge_ops
