"""Shared planning blocks for the per-family merge modules: name remaps, standard, fused and expert ops.

Names are rewritten with sequential ``str.replace`` calls, exactly as cookbook 0.6.1 does, so the same
adapter maps to the same model weight.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from tinkerlite.exceptions import WeightsMergeError

from ._merge import MergeOp, MergeProfile, numpy, scaling
from ._safetensors import RawTensor

__all__ = [
    "adapter_matrices",
    "build_name_remaps",
    "expert_layout_of",
    "extract_adapter_weight_names",
    "has_language_model_prefix",
    "plan_expert_ops",
    "plan_fused_projection_op",
    "plan_lora_ops",
    "plan_standard_merge_ops",
    "plan_standard_op",
    "remap_adapter_name",
    "validate_adapter_config",
]


def has_language_model_prefix(model_state_keys: set[str]) -> bool:
    """Whether the checkpoint nests the text model under ``model.language_model.`` (vision-language models)."""
    return any(k.startswith("model.language_model.") for k in model_state_keys)


def expert_layout_of(model_state_keys: set[str], fused_layout: str) -> str:
    """``fused_layout`` when the checkpoint has fused ``experts.gate_up_proj`` tensors, else ``"separate"``."""
    return fused_layout if any(k.endswith(".experts.gate_up_proj") for k in model_state_keys) else "separate"


#: A family's extra planner for a non-expert adapter: adds its op and returns True, or False to plan it as standard.
SpecialPlanner = Callable[[str, Any, Any, str, dict[str, list[MergeOp]]], bool]


def plan_lora_ops(
    adapter_weights: Mapping[str, Any],
    adapter_config: Mapping[str, Any],
    model_state_keys: set[str],
    profile: MergeProfile,
    target_of: Callable[[str], str],
    plan_special: SpecialPlanner | None = None,
) -> dict[str, list[MergeOp]]:
    """Every family's planning loop: each adapted matrix to its model key (``target_of``), then one op per target.

    Expert matrices go to :func:`plan_expert_ops`; others to ``plan_special`` (a family's fused layout) and,
    when it declines, :func:`plan_standard_op`.
    """
    scale = validate_adapter_config(adapter_config, profile)
    ops: dict[str, list[MergeOp]] = {}
    for n in extract_adapter_weight_names(adapter_weights):
        target = target_of(n)
        a, b = adapter_matrices(adapter_weights, n, scale)
        if ".experts" in n:
            plan_expert_ops(target, a, b, n, profile, model_state_keys, ops)
        elif plan_special is None or not plan_special(target, a, b, n, ops):
            plan_standard_op(target, a, b, n, profile, model_state_keys, ops)
    return ops


def plan_standard_merge_ops(
    adapter_weights: Mapping[str, Any],
    adapter_config: Mapping[str, Any],
    model_state_keys: set[str],
    profile: MergeProfile,
) -> dict[str, list[MergeOp]]:
    """The planner of families with standard names and no fused projections (DeepSeek V3, GPT-OSS)."""
    remaps = build_name_remaps(profile, model_state_keys)
    return plan_lora_ops(
        adapter_weights, adapter_config, model_state_keys, profile, lambda n: remap_adapter_name(n, remaps)
    )


def validate_adapter_config(adapter_config: Mapping[str, Any], profile: MergeProfile) -> float:
    """The scaling ``lora_alpha / r``; a missing key raises WeightsMergeError."""
    return scaling(adapter_config)


def extract_adapter_weight_names(adapter_weights: Mapping[str, Any]) -> list[str]:
    """``X.lora_A.weight`` -> ``X.weight`` for every adapted matrix."""
    return [n.replace(".lora_A", "") for n in adapter_weights if ".lora_A" in n]


def adapter_matrices(adapter_weights: Mapping[str, RawTensor], name: str, scale: float) -> tuple[Any, Any]:
    """(lora_A, lora_B · scale) of ``name`` (an ``X.weight`` from :func:`extract_adapter_weight_names`) as float32."""
    np = numpy()
    a_key, b_key = name.replace(".weight", ".lora_A.weight"), name.replace(".weight", ".lora_B.weight")
    if b_key not in adapter_weights:
        raise WeightsMergeError(f"Adapter weight {a_key!r} has no matching {b_key!r}")
    a = adapter_weights[a_key].to_numpy().astype(np.float32)
    b = adapter_weights[b_key].to_numpy().astype(np.float32) * np.float32(scale)
    return a, b


def build_name_remaps(profile: MergeProfile, model_state_keys: set[str]) -> list[tuple[str, str]]:
    """Strip ``base_model.model.``, map ``unembed_tokens``, then add the vision-model prefix."""
    remaps = [("base_model.model.", "")]
    has_lm_head = "lm_head.weight" in model_state_keys or any(k.endswith(".lm_head.weight") for k in model_state_keys)
    remaps.append(("model.unembed_tokens", "lm_head" if has_lm_head else "model.embed_tokens"))
    if profile.has_language_model_prefix:
        remaps.append(("model.", "model.language_model."))
    return remaps


def remap_adapter_name(name: str, remaps: list[tuple[str, str]]) -> str:
    for old, new in remaps:
        name = name.replace(old, new)
    return name


def _missing(adapter_name: str, target_key: str) -> WeightsMergeError:
    return WeightsMergeError(
        f"Adapter weight {adapter_name!r} mapped to {target_key!r} which does not exist in the model state dict"
    )


def plan_standard_op(
    target_key: str,
    lora_A: Any,
    lora_B: Any,
    adapter_name: str,
    profile: MergeProfile,
    model_state_keys: set[str],
    ops: dict[str, list[MergeOp]],
) -> None:
    for old, new in profile.extra_key_remaps:
        target_key = target_key.replace(old, new)
    if target_key not in model_state_keys:
        raise _missing(adapter_name, target_key)
    ops.setdefault(target_key, []).append(MergeOp(target_key, lora_A, lora_B, adapter_name=adapter_name))


def plan_fused_projection_op(
    target_key: str,
    lora_A: Any,
    lora_B: Any,
    adapter_name: str,
    adapter_weights: Mapping[str, RawTensor],
    profile: MergeProfile,
    model_state_keys: set[str],
    ops: dict[str, list[MergeOp]],
) -> bool:
    """A component the model fuses (Nemotron's ``gate_proj``/``x_proj`` in ``in_proj``) as a row slice."""
    if not profile.fused_projection_map:
        return False
    leaf = target_key.removesuffix(".weight").rsplit(".", 1)[-1]
    found = next(((t, c) for t, c in profile.fused_projection_map if leaf in c), None)
    if found is None:
        return False
    fused_target, components = found
    layer = re.search(r"\.layers\.(\d+)\.", target_key.removesuffix(f".{leaf}.weight"))
    if layer is None:
        return False
    pattern, suffix = f".layers.{layer.group(1)}.", f".{fused_target}.weight"
    fused_key = next((k for k in sorted(model_state_keys) if pattern in k and k.endswith(suffix)), None)
    if fused_key is None:
        return False
    start = 0
    prefix = adapter_name.removesuffix(f".{leaf}.weight")
    for comp in components[: components.index(leaf)]:
        sibling = f"{prefix}.{comp}.lora_B.weight"
        if sibling not in adapter_weights:
            raise WeightsMergeError(
                f"Fused projection merge requires all components {components} for the same layer, "
                f"but {sibling!r} is missing"
            )
        start += adapter_weights[sibling].shape[0]
    ops.setdefault(fused_key, []).append(
        MergeOp(fused_key, lora_A, lora_B, slice_start=start, adapter_name=adapter_name)
    )
    return True


def plan_expert_ops(
    target_key: str,
    lora_A: Any,
    lora_B: Any,
    adapter_name: str,
    profile: MergeProfile,
    model_state_keys: set[str],
    ops: dict[str, list[MergeOp]],
) -> None:
    """Expert adapters: one 2-D op per expert (separate layout) or one 3-D op (fused ``gate_up_proj``)."""
    np = numpy()
    if lora_A.size == 0 and lora_B.size == 0:
        return  # a placeholder for a projection the model lacks (Nemotron's w3)
    if lora_A.ndim != 3 or lora_B.ndim != 3:
        raise WeightsMergeError(f"Expert LoRA weights must be 3D, got lora_A: {lora_A.shape}, lora_B: {lora_B.shape}")
    if lora_A.shape[0] == 1 and lora_B.shape[0] == 1:
        raise WeightsMergeError(f"Cannot broadcast expert LoRA: both A and B have 1 expert ({adapter_name!r})")
    if lora_A.shape[0] == 1:
        lora_A = np.broadcast_to(lora_A, (lora_B.shape[0], *lora_A.shape[1:]))
    elif lora_B.shape[0] == 1:
        lora_B = np.broadcast_to(lora_B, (lora_A.shape[0], *lora_B.shape[1:]))
    elif lora_A.shape[0] != lora_B.shape[0]:
        raise WeightsMergeError(f"Expert count mismatch: lora_A {lora_A.shape} vs lora_B {lora_B.shape}")
    for old, new in (*profile.extra_key_remaps, *profile.expert_key_remaps):
        target_key = target_key.replace(old, new)
    if profile.expert_layout == "separate":
        for e in range(lora_A.shape[0]):
            key = target_key.replace(".experts", f".experts.{e}")
            if key not in model_state_keys:
                raise _missing(adapter_name, key)
            ops.setdefault(key, []).append(MergeOp(key, lora_A[e], lora_B[e], adapter_name=adapter_name))
        return
    idx: int | None = None
    if target_key.endswith(".gate_proj.weight"):
        idx, target_key = 0, target_key.replace(".gate_proj.weight", ".gate_up_proj")
    elif target_key.endswith(".up_proj.weight"):
        idx, target_key = 1, target_key.replace(".up_proj.weight", ".gate_up_proj")
    else:
        target_key = target_key.replace(".down_proj.weight", ".down_proj")
    if target_key not in model_state_keys:
        raise _missing(adapter_name, target_key)
    ops.setdefault(target_key, []).append(
        MergeOp(
            target_key,
            lora_A,
            lora_B,
            is_expert_3d=True,
            fused_proj_idx=idx,
            fused_proj_interleaved=profile.expert_layout == "fused_interleaved",
            adapter_name=adapter_name,
        )
    )
