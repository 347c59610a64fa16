"""INT4 pack-quantized and MXFP4 formats in numpy, and merging into a pack-quantized (Kimi-style) base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")

from tinkerlite import weights  # noqa: E402
from tinkerlite.exceptions import WeightsMergeError  # noqa: E402
from tinkerlite.weights._mxfp4 import dequantize_mxfp4, pack_mxfp4, quantize_mxfp4, unpack_mxfp4  # noqa: E402
from tinkerlite.weights._packed_int4 import (  # noqa: E402
    dequantize_int4_group,
    pack_int4,
    quantize_int4_group,
    unpack_int4,
)
from tinkerlite.weights._safetensors import RawTensor, load_raw, save_raw  # noqa: E402


def test_int4_bit_layout() -> None:
    packed = pack_int4(np.array([[1, -1, 0, 0, 0, 0, -8, 7]]))
    want = 1 | (0xF << 4) | (0x8 << 24) | (7 << 28)
    assert packed.dtype == np.int32 and int(packed[0, 0].view(np.uint32)) == want
    assert unpack_int4(packed).tolist() == [[1, -1, 0, 0, 0, 0, -8, 7]]
    with pytest.raises(ValueError, match="divisible by 8"):
        pack_int4(np.zeros((1, 6), dtype=np.int8))


def test_int4_quantization_error_is_half_a_step() -> None:
    w = np.random.default_rng(0).standard_normal((8, 64)).astype(np.float32)
    packed, scale = quantize_int4_group(w, 32)
    assert packed.shape == (8, 8) and scale.shape == (8, 2)
    back = dequantize_int4_group(packed, scale, (8, 64), 32)
    step = np.repeat(scale, 32, axis=1)
    assert np.all(np.abs(back - w) <= step * 0.5 + np.abs(w) * 2**-8 + 1e-7)


def test_mxfp4_codes_and_round_trip() -> None:
    assert unpack_mxfp4(np.array([0x21, 0xF8], dtype=np.uint8)).tolist() == [0.5, 1.0, 0.0, -6.0]
    assert pack_mxfp4(np.array([0.5, 1.0, 0.0, -6.0])).tolist() == [0x21, 0xF0]  # zero packs as +0 (code 0)
    exact = np.array([[0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0] * 4]) * 4.0  # representable at scale 2^2
    blocks, scales = quantize_mxfp4(exact)
    assert scales.tolist() == [[129]] and blocks.shape == (1, 1, 16)
    np.testing.assert_array_equal(dequantize_mxfp4(blocks, scales, exact.shape), exact)


_PREFIX = "language_model.model.layers.1.mlp.experts.{e}.gate_proj"


def _kimi_like(tmp_path: Path) -> tuple[Path, Path, list[np.ndarray]]:
    """A Kimi K2.5-style base: ``language_model.model.*`` names, two INT4 pack-quantized routed experts."""
    rng = np.random.default_rng(3)
    base = tmp_path / "base"
    base.mkdir()
    tensors: dict[str, object] = {
        "language_model.model.embed_tokens.weight": RawTensor.from_numpy(rng.standard_normal((8, 64)), dtype="BF16")
    }
    dequantized = []
    for e in range(2):
        packed, scale = quantize_int4_group(rng.standard_normal((16, 64)).astype(np.float32), 32)
        prefix = _PREFIX.format(e=e)
        tensors[f"{prefix}.weight_packed"] = RawTensor.from_numpy(packed)
        tensors[f"{prefix}.weight_scale"] = RawTensor.from_numpy(scale, dtype="BF16")
        tensors[f"{prefix}.weight_shape"] = RawTensor.from_values([16, 64], (2,), "I32")
        dequantized.append(dequantize_int4_group(packed, scale, (16, 64), 32))
    save_raw(tensors, base / "model.safetensors")
    quant = {"format": "pack-quantized", "config_groups": {"group_0": {"weights": {"group_size": 32, "num_bits": 4}}}}
    (base / "config.json").write_text(
        json.dumps({"model_type": "kimi_k25", "text_config": {"quantization_config": quant}})
    )
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    a = rng.standard_normal((2, 2, 64)).astype(np.float32) * 0.1  # [experts, rank, in]
    b = rng.standard_normal((2, 16, 2)).astype(np.float32) * 0.1  # [experts, out, rank]
    name = "base_model.model.model.layers.1.mlp.experts.w1"  # Tinker's name for the routed experts' gate_proj
    save_raw({f"{name}.lora_A.weight": a, f"{name}.lora_B.weight": b}, adapter / "adapter_model.safetensors")
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 2, "lora_alpha": 2}))
    return base, adapter, [dequantized[e] + b[e] @ a[e] for e in range(2)]


def test_merge_into_a_pack_quantized_base(tmp_path: Path) -> None:
    base, adapter, expected = _kimi_like(tmp_path)
    out = tmp_path / "merged"
    weights.build_hf_model(base_model=str(base), adapter_path=str(adapter), output_path=str(out))
    merged = load_raw(out / "model.safetensors")[0]
    before = load_raw(base / "model.safetensors")[0]
    for e in range(2):
        prefix = _PREFIX.format(e=e)
        assert merged[f"{prefix}.weight_packed"].dtype == "I32" and merged[f"{prefix}.weight_scale"].dtype == "BF16"
        scale = merged[f"{prefix}.weight_scale"].to_numpy()
        got = dequantize_int4_group(merged[f"{prefix}.weight_packed"].to_numpy(), scale, (16, 64), 32)
        step = np.repeat(scale, 32, axis=1)
        assert np.all(np.abs(got - expected[e]) <= step * 0.5 + np.abs(expected[e]) * 2**-7 + 1e-6)
        unmerged = dequantize_int4_group(
            before[f"{prefix}.weight_packed"].to_numpy(), before[f"{prefix}.weight_scale"].to_numpy(), (16, 64), 32
        )
        assert not np.allclose(got, unmerged)  # the delta really went in


def test_other_quantized_bases_say_what_is_missing(tmp_path: Path) -> None:
    base, adapter, _ = _kimi_like(tmp_path)
    (base / "config.json").write_text(
        json.dumps({"model_type": "gpt_oss", "quantization_config": {"quant_method": "mxfp4"}})
    )
    with pytest.raises(WeightsMergeError, match="quantized \\('mxfp4'\\)"):
        weights.build_hf_model(base_model=str(base), adapter_path=str(adapter), output_path=str(tmp_path / "o"))
