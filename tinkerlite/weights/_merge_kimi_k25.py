"""Kimi K2.5 / K2.6 merge planning (``model_type=kimi_k25``): the ``language_model.model.*`` prefix, separate experts.

Routed experts are INT4 ``pack-quantized``; the export merges them through virtual ``.weight`` keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._merge import MergeOp, MergeProfile
from ._merge_utils import (
    adapter_matrices,
    extract_adapter_weight_names,
    plan_expert_ops,
    plan_standard_op,
    remap_adapter_name,
    validate_adapter_config,
)

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
    scale = validate_adapter_config(adapter_config, profile)
    ops: dict[str, list[MergeOp]] = {}
    for n in extract_adapter_weight_names(adapter_weights):
        target = remap_adapter_name(n, _REMAPS)
        if target.startswith("lm_head"):  # an adapter that names lm_head directly
            target = "language_model." + target
        a, b = adapter_matrices(adapter_weights, n, scale)
        if ".experts" not in n:
            plan_standard_op(target, a, b, n, profile, model_state_keys, ops)
        else:
            plan_expert_ops(target, a, b, n, profile, model_state_keys, ops)
    return ops
