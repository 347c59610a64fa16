"""LoRA merge planning and math, in numpy (imported lazily; the ``local`` or ``fast`` extra), as the cookbook does it.

Tinker adapters name each adapted matrix ``base_model.model.<module>.lora_A.weight`` (``[r, in]``) and
``...lora_B.weight`` (``[out, r]``); the merged weight is ``W + (lora_alpha / r) · B @ A``, computed in float32
and cast back to the weight's own dtype. Expert adapters are 3-D (``[E, r, in]``, ``[E, out, r]``; a side with
E = 1 is shared) and named ``...experts.w1/w2/w3``.

A :class:`MergeProfile`, detected from ``config.json`` and the weight names (:func:`detect_merge_profile`),
says how names map and how experts are laid out, per family as in cookbook 0.6.1: GPT-OSS (``.attn`` ->
``.self_attn``, interleaved ``gate_up_proj``), DeepSeek V3 (separate experts), Nemotron-H (``backbone.``
prefix, ``up/down`` experts, ``gate_proj``/``x_proj`` fused into ``in_proj``), Qwen3.5/3.6 (split
``in_proj_q/k/v`` into the fused ``in_proj_qkv``, ``model.language_model.`` prefix), Kimi K2.5/K2.6
(``language_model.model.`` prefix) and the default (Qwen3, Llama, ...; concatenated ``gate_up_proj`` when
fused). Each family's planner lives in ``_merge_<family>.py``. INT4 ``pack-quantized`` targets are merged by
dequantizing, adding and re-quantizing (:mod:`._packed_int4`). A name that maps to no model weight raises
:class:`~tinkerlite.exceptions.WeightsMergeError`, never a silent partial merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tinkerlite._optional import require
from tinkerlite.exceptions import WeightsMergeError

from ._safetensors import RawTensor

__all__ = [
    "MergeOp",
    "MergeProfile",
    "apply_merge_op",
    "apply_merge_ops",
    "detect_merge_profile",
    "merge_lora_matrices",
    "numpy",
    "packed_int4_virtual_keys",
    "plan_merge_ops",
    "scaling",
]

_VALID_EXPERT_LAYOUTS = frozenset({"separate", "fused_interleaved", "fused_concatenated"})


def numpy() -> Any:
    """numpy, or an error naming the extras that bring it."""
    return require("numpy", "merging LoRA weights (tinkerlite.weights; numpy also comes with 'fast')", extra="local")


@dataclass(frozen=True)
class MergeProfile:
    """How one model family's adapter names map to its weights, and how its experts are stored."""

    expert_layout: str = "separate"
    extra_key_remaps: tuple[tuple[str, str], ...] = ()
    has_language_model_prefix: bool = False
    model_family: str = "default"
    expert_key_remaps: tuple[tuple[str, str], ...] = (
        (".w1.weight", ".gate_proj.weight"),
        (".w3.weight", ".up_proj.weight"),
        (".w2.weight", ".down_proj.weight"),
    )
    fused_projection_map: tuple[tuple[str, tuple[str, ...]], ...] = ()
    split_qkv_projections: bool = False


@dataclass
class MergeOp:
    """One adapter to add into one model weight (only the rank-sized matrices are kept)."""

    target_key: str
    lora_A: Any  # [r, in] or [E, r, in], float32
    lora_B: Any  # [out, r] or [E, out, r], float32, already multiplied by the scaling
    is_expert_3d: bool = False
    fused_proj_idx: int | None = None  # 0 = gate, 1 = up of a fused gate_up_proj
    fused_proj_interleaved: bool = False  # GPT-OSS: [g0, u0, g1, u1, ...]
    slice_start: int | None = None  # row offset into a fused target (in_proj_qkv, in_proj)
    adapter_name: str = ""


def scaling(adapter_config: Mapping[str, Any]) -> float:
    for key in ("lora_alpha", "r"):
        if key not in adapter_config:
            raise WeightsMergeError(f"Adapter config missing required key: {key!r}")
    return float(adapter_config["lora_alpha"]) / float(adapter_config["r"])


def merge_lora_matrices(lora_A: Any, lora_B: Any) -> Any:
    """2-D LoRA delta ``B @ A`` (``[out, in]``)."""
    return lora_B @ lora_A


def detect_merge_profile(model_config: Mapping[str, Any], model_state_keys: set[str]) -> MergeProfile:
    """The first family detector that claims the model, else the default profile."""
    from . import _merge_deepseek, _merge_default, _merge_gpt_oss, _merge_kimi_k25, _merge_nemotron, _merge_qwen3_5

    detectors = (
        _merge_gpt_oss.detect_profile,
        _merge_deepseek.detect_profile,
        _merge_nemotron.detect_profile,
        _merge_qwen3_5.detect_profile,
        _merge_kimi_k25.detect_profile,
    )
    for detect in detectors:
        profile = detect(dict(model_config), model_state_keys)
        if profile is not None:
            return profile
    return _merge_default.detect_profile(dict(model_config), model_state_keys)


def plan_merge_ops(
    adapter_weights: Mapping[str, RawTensor],
    adapter_config: Mapping[str, Any],
    model_state_keys: Iterable[str],
    profile: MergeProfile | None = None,
    model_config: Mapping[str, Any] | None = None,
) -> dict[str, list[MergeOp]]:
    """Every merge to perform, keyed by model weight name (dispatched on ``profile.model_family``).

    Without ``profile`` it is detected from ``model_config`` and the keys.
    """
    from . import _merge_deepseek, _merge_default, _merge_gpt_oss, _merge_kimi_k25, _merge_qwen3_5

    keys = set(model_state_keys)
    if profile is None:
        profile = detect_merge_profile(model_config or {}, keys)
    if profile.expert_layout not in _VALID_EXPERT_LAYOUTS:
        raise WeightsMergeError(f"Invalid expert_layout {profile.expert_layout!r}")
    planners = {
        "default": _merge_default.plan_merge_ops,
        "nemotron": _merge_default.plan_merge_ops,
        "gpt_oss": _merge_gpt_oss.plan_merge_ops,
        "deepseek": _merge_deepseek.plan_merge_ops,
        "qwen3_5": _merge_qwen3_5.plan_merge_ops,
        "kimi_k25": _merge_kimi_k25.plan_merge_ops,
    }
    plan = planners.get(profile.model_family)
    if plan is None:
        raise WeightsMergeError(f"Unknown model_family {profile.model_family!r}. Registered: {sorted(planners)}")
    return plan(adapter_weights, adapter_config, keys, profile)


# ---- applying -----------------------------------------------------------------------------------------


def _detect_fused_axis(target_shape: tuple[int, ...], delta_shape: tuple[int, ...], key: str) -> int:
    """Axis of a fused ``gate_up_proj`` holding gate|up: 2 for ``(n, hidden, fused)``, 1 for ``(n, fused, hidden)``."""
    _, t1, t2 = target_shape
    _, d1, d2 = delta_shape
    if d1 == t1 and t2 == 2 * d2:
        return 2
    if t2 == d1 and t1 == 2 * d2:
        return 1
    raise WeightsMergeError(f"Cannot determine fused axis for {key!r}: target {target_shape}, delta {delta_shape}")


def _check(view_shape: tuple[int, ...], delta: Any, op: MergeOp) -> None:
    if tuple(view_shape) != tuple(delta.shape):
        raise WeightsMergeError(
            f"Shape mismatch merging {op.adapter_name or op.target_key!r} into {op.target_key!r}: "
            f"target {tuple(view_shape)} vs merged LoRA {tuple(delta.shape)}"
        )


def apply_merge_op(tensors: dict[str, Any], op: MergeOp) -> None:
    """Add one op's delta into ``tensors[op.target_key]`` (a float numpy array), in place."""
    _apply_to_array(tensors[op.target_key], op)


def _apply_to_array(w: Any, op: MergeOp) -> None:
    """Add one op's delta into the float32 array ``w`` (the target weight), in place."""
    np = numpy()
    if op.is_expert_3d:
        a, b = op.lora_A, op.lora_B
        if a.shape[0] == 1 and b.shape[0] > 1:
            a = np.broadcast_to(a, (b.shape[0], *a.shape[1:]))
        elif b.shape[0] == 1 and a.shape[0] > 1:
            b = np.broadcast_to(b, (a.shape[0], *b.shape[1:]))
        delta = np.matmul(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2))  # (E, in, out)
        if op.fused_proj_idx is not None:
            axis = _detect_fused_axis(w.shape, delta.shape, op.target_key)
            if op.fused_proj_interleaved:
                view = w[:, :, op.fused_proj_idx :: 2]
            elif axis == 2:
                width = w.shape[2] // 2
                view = w[:, :, op.fused_proj_idx * width : (op.fused_proj_idx + 1) * width]
            else:
                delta = np.swapaxes(delta, -1, -2)
                width = w.shape[1] // 2
                view = w[:, op.fused_proj_idx * width : (op.fused_proj_idx + 1) * width, :]
            _check(view.shape, delta, op)
            view += delta
            return
        if delta.shape != w.shape:
            delta = np.swapaxes(delta, -1, -2)
        _check(w.shape, delta, op)
        w += delta
        return
    delta = merge_lora_matrices(op.lora_A, op.lora_B)
    if op.slice_start is not None:
        view = w[op.slice_start : op.slice_start + delta.shape[0]]
        if view.ndim != 2 or view.shape[0] != delta.shape[0] or view.shape[1] != delta.shape[1]:
            raise WeightsMergeError(
                f"Shape mismatch for {op.target_key!r} slice [{op.slice_start}:{op.slice_start + delta.shape[0]}]: "
                f"merged LoRA {tuple(delta.shape)}, target {tuple(w.shape)}"
            )
        view += delta
        return
    _check(w.shape, delta, op)
    w += delta


def packed_int4_virtual_keys(keys: Iterable[str]) -> set[str]:
    """``X.weight`` for every pack-quantized ``X.weight_packed``: what adapters name such weights."""
    return {k.removesuffix("_packed") for k in keys if k.endswith(".weight_packed")}


def _merge_packed_int4(tensors: dict[str, RawTensor], key: str, key_ops: list[MergeOp], group_size: int) -> bool:
    """Dequantize ``key``'s INT4 parts, add the deltas in float32, quantize back (as the cookbook's shard path)."""
    from ._packed_int4 import dequantize_int4_group, quantize_int4_group

    prefix = key.removesuffix(".weight")
    parts = {p: f"{prefix}.weight_{p}" for p in ("packed", "scale", "shape")}
    if parts["packed"] not in tensors:
        return False
    missing = [name for name in parts.values() if name not in tensors]
    if missing:
        raise WeightsMergeError(f"pack-quantized weight {key!r} is split across shards (no {missing} here)")
    shape = tuple(int(x) for x in tensors[parts["shape"]].tolist())
    if len(shape) != 2:
        raise WeightsMergeError(f"{parts['shape']!r} must hold [out_dim, in_dim], got {shape}")
    w = dequantize_int4_group(
        tensors[parts["packed"]].to_numpy(), tensors[parts["scale"]].to_numpy(), (shape[0], shape[1]), group_size
    )
    for op in key_ops:
        _apply_to_array(w, op)
    packed, scale = quantize_int4_group(w, group_size)
    tensors[parts["packed"]] = RawTensor.from_numpy(packed, dtype=tensors[parts["packed"]].dtype)
    tensors[parts["scale"]] = RawTensor.from_numpy(scale, dtype=tensors[parts["scale"]].dtype)
    return True


def apply_merge_ops(
    tensors: dict[str, RawTensor], ops: Mapping[str, list[MergeOp]], int4_group_size: int | None = None
) -> list[str]:
    """Merge the ops whose targets are in ``tensors`` (in place, keeping each dtype); returns the merged keys.

    With ``int4_group_size`` (a compressed-tensors ``pack-quantized`` model), a target held as
    ``weight_packed``/``weight_scale``/``weight_shape`` is dequantized, merged and quantized back.
    """
    np = numpy()
    done = []
    for key, key_ops in ops.items():
        raw = tensors.get(key)
        if raw is None:
            if int4_group_size is not None and _merge_packed_int4(tensors, key, key_ops, int4_group_size):
                done.append(key)
            continue
        w = np.array(raw.to_numpy(), dtype=np.float32)
        for op in key_ops:
            _apply_to_array(w, op)
        tensors[key] = RawTensor.from_numpy(w, dtype=raw.dtype if raw.dtype != "F32" else None)
        done.append(key)
    return done
