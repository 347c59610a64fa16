"""Kimi K2.5 / K2.6 merge planning (``model_type=kimi_k25``): the ``language_model.model.*`` prefix, separate experts.

Routed experts are INT4 ``pack-quantized``; the export merges them through virtual ``.weight`` keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._merge import MergeOp, MergeProfile
from ._merge_utils import plan_lora_ops, remap_adapter_name

__all__ = ["detect_profile", "plan_merge_ops"]

_REMAPS = [
    ("base_model.model.", ""),
    ("model.", "language_model.model."),
    ("language_model.model.unembed_tokens", "language_model.lm_head"),
]


def detect_profile(model_config: dict[str, Any], model_state_keys: set[str]) -> MergeProfile | None:
    if model_config.get("model_type") != "kimi_k25":
        return None
    return MergeProfile(model_family="kimi_k25", expert_layout="separate", has_language_model_prefix=False)


def plan_merge_ops(
    adapter_weights: Mapping[str, Any],
    adapter_config: Mapping[str, Any],
    model_state_keys: set[str],
    profile: MergeProfile,
) -> dict[str, list[MergeOp]]:
    return plan_lora_ops(adapter_weights, adapter_config, model_state_keys, profile, _target_of)


def _target_of(adapter_name: str) -> str:
    target = remap_adapter_name(adapter_name, _REMAPS)
    if target.startswith("lm_head"):  # an adapter that names lm_head directly
        target = "language_model." + target
    return target
