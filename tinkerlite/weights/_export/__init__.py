"""``build_hf_model``: merge a Tinker LoRA adapter into an HF model directory, without torch.

Reads and writes safetensors with :mod:`tinkerlite.weights._safetensors` and does the merge math in numpy.
``merge_strategy``: ``"auto"``/``"shard"`` (default) merges one weight file at a time and keeps each
tensor's on-disk dtype; ``"full"`` loads every tensor, merges, casts to ``dtype`` and writes one
``model.safetensors``. Every other file of the base directory (config, tokenizer, chat template,
generation config) is copied; ``config.json``'s ``torch_dtype`` follows ``dtype`` on the full path.

A compressed-tensors ``pack-quantized`` base (Kimi K2.x's INT4 experts) is merged as the cookbook's shard path
does it: dequantize, add the delta in float32, re-quantize (numpy, :mod:`tinkerlite.weights._packed_int4`).
The quantized path (``quantize="experts-fp8"``) quantizes routed expert weights to FP8 with torch in the
cookbook; tinkerlite has no FP8 kernels, so it raises a ConfigurationError that says so. Differences from
the cookbook: base models are never downloaded (see :mod:`tinkerlite.weights._artifacts`); ``device`` and
``trust_remote_code`` are accepted and have no effect (no torch, no remote code).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from tinkerlite.exceptions import ConfigurationError, WeightsMergeError

from .._artifacts import copy_artifact_file, load_adapter_weights, load_config_dict, resolve_model_dir, weight_shards
from .._safetensors import RawTensor, load_raw, save_raw

__all__ = ["build_hf_model", "load_config_dict", "resolve_trust_remote_code"]

logger = logging.getLogger(__name__)

_DTYPES = {"bfloat16": "BF16", "float16": "F16", "float32": "F32"}
_VALID_STRATEGIES = {"auto", "shard", "full"}
_VALID_QUANTIZE = {"experts-fp8"}
_VALID_SERVING_FORMATS = {"vllm"}


def resolve_trust_remote_code(trust_remote_code: bool | None) -> bool:
    """Explicit value, else ``HF_TRUST_REMOTE_CODE``, else False (as the cookbook resolves it)."""
    if trust_remote_code is not None:
        return trust_remote_code
    return os.environ.get("HF_TRUST_REMOTE_CODE", "").lower() in ("1", "true", "yes")


def _validate(
    dtype: str, merge_strategy: str, dequantize: bool, quantize: str | None, serving_format: str | None
) -> None:
    if quantize is not None and quantize not in _VALID_QUANTIZE:
        raise ConfigurationError(f"Unsupported quantize={quantize!r}. Choose from: {sorted(_VALID_QUANTIZE)}")
    if serving_format is not None and serving_format not in _VALID_SERVING_FORMATS:
        raise ConfigurationError(
            f"Unsupported serving_format={serving_format!r}. Choose from: {sorted(_VALID_SERVING_FORMATS)}"
        )
    if quantize is not None and serving_format is None:
        raise ConfigurationError(
            f"quantize={quantize!r} requires serving_format to be set (e.g. serving_format='vllm')"
        )
    if serving_format is not None and quantize is None:
        raise ConfigurationError(f"serving_format={serving_format!r} requires quantize to be set (e.g. 'experts-fp8')")
    if quantize == "experts-fp8" and dtype != "bfloat16":
        raise ConfigurationError(f"quantize='experts-fp8' requires dtype='bfloat16', got dtype={dtype!r}.")
    if dequantize and quantize is None:
        raise NotImplementedError(
            "dequantize is not yet supported for the standard merge path. "
            "Use quantize='experts-fp8' for models with native FP8 weights."
        )
    if dtype not in _DTYPES:
        raise ConfigurationError(f"Unsupported dtype {dtype!r}. Choose from: {list(_DTYPES)}")
    if merge_strategy not in _VALID_STRATEGIES:
        raise ConfigurationError(
            f"Unsupported merge_strategy {merge_strategy!r}. Choose from: {sorted(_VALID_STRATEGIES)}"
        )
    if quantize is not None:
        raise ConfigurationError(
            "quantize='experts-fp8' is not available in tinkerlite: blockwise FP8 quantization of routed experts "
            "needs torch's float8_e4m3fn kernels, which tinkerlite does not use. Merge without quantize, or run "
            "the official tinker-cookbook (with torch) for the FP8 export."
        )


def build_hf_model(
    *,
    base_model: str,
    adapter_path: str,
    output_path: str,
    dtype: str = "bfloat16",
    trust_remote_code: bool | None = None,
    merge_strategy: str = "auto",
    dequantize: bool = False,
    quantize: str | None = None,
    serving_format: str | None = None,
    device: str | None = None,
) -> None:
    """Merge the LoRA adapter at ``adapter_path`` into ``base_model`` and write an HF model directory.

    ``base_model`` is a local HF directory or a name in the HF cache; ``adapter_path`` holds
    ``adapter_model.safetensors`` and ``adapter_config.json``; ``output_path`` must not exist.
    Raises FileNotFoundError (missing files), FileExistsError (output exists), ConfigurationError
    (bad option), WeightsMergeError (an adapter that does not fit the model).
    """
    _validate(dtype, merge_strategy, dequantize, quantize, serving_format)
    resolve_trust_remote_code(trust_remote_code)
    out = Path(output_path)
    if out.exists():
        raise FileExistsError(f"Output path already exists: {out}")
    model_dir = resolve_model_dir(base_model)
    config = load_config_dict(model_dir)
    quant = config.get("quantization_config")
    if isinstance(quant, dict) and quant.get("quant_method") == "fp8":
        logger.warning(
            "base model has native FP8 weights; tinkerlite reads FP8 only as raw bytes and cannot merge them"
        )
    adapter_weights, adapter_config = load_adapter_weights(Path(adapter_path))
    shards = weight_shards(model_dir)
    strategy = "shard" if merge_strategy == "auto" else merge_strategy
    if strategy == "full" and len(shards) > 1:
        logger.info("merge_strategy='full' writes the %d shards as one model.safetensors", len(shards))

    tmp = out.with_name(f".{out.name}.partial")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        _merge_into(tmp, model_dir, shards, adapter_weights, adapter_config, strategy, _DTYPES[dtype], config, dtype)
        tmp.rename(out)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _merge_into(
    out: Path,
    model_dir: Path,
    shards: list[Path],
    adapter_weights: dict[str, RawTensor],
    adapter_config: dict[str, Any],
    strategy: str,
    out_dtype: str,
    config: dict[str, Any],
    dtype_name: str,
) -> None:
    from .._merge import apply_merge_ops, packed_int4_virtual_keys, plan_merge_ops
    from .._safetensors import read_header

    headers = {shard: read_header(shard) for shard in shards}
    keys = {k for h in headers.values() for k in h if k != "__metadata__"}
    int4 = packed_int4_group_size(config)
    if int4 is not None:
        keys |= packed_int4_virtual_keys(keys)
    try:
        ops = plan_merge_ops(adapter_weights, adapter_config, keys, model_config=config)
    except WeightsMergeError as e:
        quant = config.get("quantization_config")
        if isinstance(quant, dict) and int4 is None:
            method = quant.get("quant_method") or quant.get("format")
            raise WeightsMergeError(
                f"{e}. The base model is quantized ({method!r}); tinkerlite merges only into float weights and "
                "compressed-tensors 'pack-quantized' INT4 weights. Merge into a dequantized (bf16) checkpoint."
            ) from None
        raise
    merged: list[str] = []
    if strategy == "full":
        tensors: dict[str, RawTensor] = {}
        for shard in shards:
            tensors.update(load_raw(shard)[0])
        merged = apply_merge_ops(tensors, ops, int4)
        save_raw({k: _cast(v, out_dtype) for k, v in tensors.items()}, out / "model.safetensors", {"format": "pt"})
        config = {**config, "torch_dtype": dtype_name}
        (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    else:
        for shard in shards:
            tensors, meta = load_raw(shard)
            merged += apply_merge_ops(tensors, ops, int4)
            save_raw(tensors, out / shard.name, meta or {"format": "pt"})
    missing = sorted(set(ops) - set(merged))
    if missing:
        raise WeightsMergeError(f"merge targets not found in any weight file: {missing}")
    skip = {s.name for s in shards} | ({"model.safetensors.index.json", "config.json"} if strategy == "full" else set())
    for f in sorted(model_dir.iterdir()):
        if f.is_file() and f.name not in skip and not f.name.endswith(".safetensors") and f.name != "README.md":
            copy_artifact_file(f, out)
    logger.info("merged %d adapter matrices into %d weights", sum(len(v) for v in ops.values()), len(merged))


def packed_int4_group_size(config: dict[str, Any]) -> int | None:
    """The group size of a compressed-tensors ``pack-quantized`` model (Kimi K2.x), else None."""
    quant = next(
        (c["quantization_config"] for c in (config, config.get("text_config"))
         if isinstance(c, dict) and isinstance(c.get("quantization_config"), dict)),
        None,
    )  # fmt: skip
    if quant is None or quant.get("format") != "pack-quantized":
        return None
    for group in (quant.get("config_groups") or {}).values():
        size = ((group or {}).get("weights") or {}).get("group_size") if isinstance(group, dict) else None
        if isinstance(size, int) and size > 0:
            return size
    return 32


def _cast(raw: RawTensor, out_dtype: str) -> RawTensor:
    if raw.dtype == out_dtype or raw.dtype not in ("F32", "F16", "BF16", "F64"):
        return raw
    return RawTensor.from_numpy(raw.to_numpy(), dtype=out_dtype)
