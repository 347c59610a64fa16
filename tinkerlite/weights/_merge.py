"""LoRA merge math and adapter-to-model name mapping, in numpy (imported lazily; the ``fast`` or ``local`` extra).

Tinker adapters name each adapted matrix ``base_model.model.<module>.lora_A.weight`` (shape ``[r, in]``) and
``...lora_B.weight`` (``[out, r]``); the merged weight is ``W + (lora_alpha / r) · B @ A``, computed in float32
and cast back to the weight's own dtype. Names map as the cookbook maps them: strip ``base_model.model.``,
then ``model.unembed_tokens`` -> ``lm_head`` (or ``model.embed_tokens`` when the model has no separate
``lm_head``), then ``model.`` -> ``model.language_model.`` for models that nest their text model that way.
Expert adapters (3-D ``[E, r, in]`` / ``[E, out, r]``, one side possibly shared with E = 1) merge into a
fused 3-D expert weight ``[E, out, in]`` of the same name. INT4 ``pack-quantized`` weights (Kimi K2.x experts)
are dequantized, merged and re-quantized (:mod:`._packed_int4`). Layouts this does not cover (split or fused
projections the cookbook remaps per family) raise :class:`~tinkerlite.exceptions.WeightsMergeError` naming
the adapter key, never a silent partial merge.
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
    "apply_merge_ops",
    "merge_lora_matrices",
    "numpy",
    "packed_int4_virtual_keys",
    "plan_merge_ops",
    "scaling",
]


def numpy() -> Any:
    """numpy, or an error naming the extras that bring it."""
    return require("numpy", "merging LoRA weights (tinkerlite.weights; numpy also comes with 'fast')", extra="local")


@dataclass(frozen=True)
class MergeOp:
    """One adapter to add into one model weight."""

    target_key: str
    adapter_name: str
    lora_A: Any  # [r, in] or [E, r, in], float32
    lora_B: Any  # [out, r] or [E, out, r], float32, already multiplied by the scaling


def scaling(adapter_config: Mapping[str, Any]) -> float:
    for key in ("lora_alpha", "r"):
        if key not in adapter_config:
            raise WeightsMergeError(f"Adapter config missing required key: {key!r}")
    return float(adapter_config["lora_alpha"]) / float(adapter_config["r"])


def merge_lora_matrices(lora_A: Any, lora_B: Any) -> Any:
    """``B @ A`` (batched over experts for 3-D inputs, broadcasting a shared side)."""
    np = numpy()
    if lora_A.ndim == 2 and lora_B.ndim == 2:
        return lora_B @ lora_A
    if lora_A.ndim == 3 and lora_B.ndim == 3:
        if lora_A.shape[0] != lora_B.shape[0] and 1 not in (lora_A.shape[0], lora_B.shape[0]):
            raise WeightsMergeError(f"Expert count mismatch: lora_A {lora_A.shape} vs lora_B {lora_B.shape}")
        return np.matmul(lora_B, lora_A)
    raise WeightsMergeError(f"lora_A {lora_A.shape} and lora_B {lora_B.shape} must both be 2-D or both 3-D")


def _target(adapter_base: str, model_keys: set[str]) -> str:
    """The model weight an adapter base name (``base_model.model.<module>``) adds into."""
    name = adapter_base.removeprefix("base_model.model.")
    if name == "model.unembed_tokens" or name.endswith(".unembed_tokens"):
        has_lm_head = any(k == "lm_head.weight" or k.endswith(".lm_head.weight") for k in model_keys)
        name = name.replace("model.unembed_tokens", "lm_head" if has_lm_head else "model.embed_tokens")
    nested = any(k.startswith("model.language_model.") for k in model_keys)
    if nested and name.startswith("model.") and not name.startswith("model.language_model."):
        name = "model.language_model." + name.removeprefix("model.")
    return name + ".weight"


def plan_merge_ops(
    adapter_weights: Mapping[str, RawTensor], adapter_config: Mapping[str, Any], model_keys: Iterable[str]
) -> dict[str, list[MergeOp]]:
    """Every merge to perform, keyed by model weight name; unknown targets raise WeightsMergeError."""
    np = numpy()
    keys = set(model_keys)
    scale = scaling(adapter_config)
    ops: dict[str, list[MergeOp]] = {}
    names = sorted(n for n in adapter_weights if ".lora_A." in n or n.endswith(".lora_A"))
    for name in names:
        b_name = name.replace(".lora_A", ".lora_B")
        if b_name not in adapter_weights:
            raise WeightsMergeError(f"Adapter weight {name!r} has no matching {b_name!r}")
        base = name.split(".lora_A", 1)[0]
        target = _target(base, keys)
        if target not in keys:
            raise WeightsMergeError(
                f"Adapter weight {name!r} mapped to {target!r} which does not exist in the model state dict"
            )
        a = adapter_weights[name].to_numpy().astype(np.float32)
        b = adapter_weights[b_name].to_numpy().astype(np.float32) * np.float32(scale)
        ops.setdefault(target, []).append(MergeOp(target, name, a, b))
    return ops


def _add_deltas(key: str, w: Any, key_ops: list[MergeOp]) -> Any:
    np = numpy()
    for op in key_ops:
        delta = merge_lora_matrices(op.lora_A, op.lora_B)
        if delta.shape != w.shape:
            if delta.ndim == 3 and delta.shape[0] == 1 and delta.shape[1:] == w.shape[1:]:
                delta = np.broadcast_to(delta, w.shape)
            else:
                raise WeightsMergeError(
                    f"Shape mismatch merging {op.adapter_name!r}: target {key!r} is {tuple(w.shape)}, "
                    f"the LoRA delta is {tuple(delta.shape)}"
                )
        w = w + delta
    return w


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
    packed, scale = quantize_int4_group(_add_deltas(key, w, key_ops), group_size)
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
        w = _add_deltas(key, raw.to_numpy().astype(np.float32), key_ops)
        tensors[key] = RawTensor.from_numpy(w, dtype=raw.dtype if raw.dtype != "F32" else None)
        done.append(key)
    return done
