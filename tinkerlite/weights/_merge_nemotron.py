"""Nemotron-H profile: ``backbone.`` prefix, up/down experts (no gate), ``gate_proj``/``x_proj`` fused in ``in_proj``.

Planning is the default planner's (the differences are all in the profile).
"""

from __future__ import annotations

from typing import Any

from ._merge import MergeProfile
from ._merge_utils import has_language_model_prefix

__all__ = ["detect_profile"]

_EXPERT_KEY_REMAPS = ((".w1.weight", ".up_proj.weight"), (".w2.weight", ".down_proj.weight"))
_FUSED_PROJECTION_MAP = (("in_proj", ("gate_proj", "x_proj")),)
_EXTRA_KEY_REMAPS = (("model.layers.", "backbone.layers."), ("model.lm_head", "lm_head"))


def detect_profile(model_config: dict[str, Any], model_state_keys: set[str]) -> MergeProfile | None:
    if not any("NemotronH" in a for a in model_config.get("architectures", []) or []):
        return None
    return MergeProfile(
        model_family="nemotron",
        expert_layout="separate",
        extra_key_remaps=_EXTRA_KEY_REMAPS,
        expert_key_remaps=_EXPERT_KEY_REMAPS,
        fused_projection_map=_FUSED_PROJECTION_MAP,
        has_language_model_prefix=has_language_model_prefix(model_state_keys),
    )
