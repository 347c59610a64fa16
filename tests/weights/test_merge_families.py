"""Per-family merge planning (cookbook 0.6.1's profiles) on small synthetic HF layouts, checked against numpy math.

Expert deltas are ``A^T @ B^T`` per expert (``[E, in, out]``), written into fused ``gate_up_proj`` halves
(GPT-OSS interleaved, Qwen concatenated) or into separate ``experts.N.*_proj.weight`` ``[out, in]``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")

from tinkerlite import weights  # noqa: E402
from tinkerlite.exceptions import WeightsMergeError  # noqa: E402
from tinkerlite.weights._merge import detect_merge_profile  # noqa: E402
from tinkerlite.weights._safetensors import load_raw, save_raw  # noqa: E402

RNG = np.random.default_rng(7)


def _rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _write_inputs(
    tmp_path: Path, config: dict, base: dict[str, np.ndarray], adapter: dict[str, np.ndarray], lora_alpha: int
) -> None:
    """``<tmp>/base`` (weights + config.json) and ``<tmp>/adapter`` (PEFT names, rank 2) for the converters."""
    (tmp_path / "base").mkdir()
    save_raw(base, tmp_path / "base" / "model.safetensors")
    (tmp_path / "base" / "config.json").write_text(json.dumps(config))
    (tmp_path / "adapter").mkdir()
    save_raw(
        {f"base_model.model.{k}": v for k, v in adapter.items()}, tmp_path / "adapter" / "adapter_model.safetensors"
    )
    (tmp_path / "adapter" / "adapter_config.json").write_text(json.dumps({"r": 2, "lora_alpha": lora_alpha}))


def _build(tmp_path: Path, config: dict, base: dict[str, np.ndarray], adapter: dict[str, np.ndarray]) -> dict:
    _write_inputs(tmp_path, config, base, adapter, lora_alpha=2)
    weights.build_hf_model(
        base_model=str(tmp_path / "base"), adapter_path=str(tmp_path / "adapter"), output_path=str(tmp_path / "out")
    )
    return {k: v.to_numpy() for k, v in load_raw(tmp_path / "out" / "model.safetensors")[0].items()}


def _ab(prefix: str, out_dim: int, in_dim: int, experts: int = 0) -> dict[str, np.ndarray]:
    lead = (experts,) if experts else ()
    return {f"{prefix}.lora_A.weight": _rand(*lead, 2, in_dim), f"{prefix}.lora_B.weight": _rand(*lead, out_dim, 2)}


def _expert_delta(ad: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    a, b = ad[f"{prefix}.lora_A.weight"], ad[f"{prefix}.lora_B.weight"]
    return np.matmul(a.transpose(0, 2, 1), b.transpose(0, 2, 1))  # [E, in, out]


def test_gpt_oss_attn_remap_and_interleaved_experts(tmp_path: Path) -> None:
    e, h, inter = 2, 4, 3
    base = {
        "model.layers.0.self_attn.q_proj.weight": _rand(h, h),
        "model.layers.0.mlp.experts.gate_up_proj": _rand(e, h, 2 * inter),
        "model.layers.0.mlp.experts.down_proj": _rand(e, inter, h),
        "lm_head.weight": _rand(5, h),
    }
    ad = {
        **_ab("model.layers.0.attn.q_proj", h, h),
        **_ab("model.layers.0.mlp.experts.w1", inter, h, e),
        **_ab("model.layers.0.mlp.experts.w3", inter, h, e),
        **_ab("model.layers.0.mlp.experts.w2", h, inter, e),
    }
    out = _build(tmp_path, {"architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss"}, base, ad)
    q = "model.layers.0.self_attn.q_proj.weight"
    a, b = ad["model.layers.0.attn.q_proj.lora_A.weight"], ad["model.layers.0.attn.q_proj.lora_B.weight"]
    np.testing.assert_allclose(out[q], base[q] + b @ a, rtol=1e-5, atol=1e-6)
    gu = base["model.layers.0.mlp.experts.gate_up_proj"].copy()
    gu[:, :, 0::2] += _expert_delta(ad, "model.layers.0.mlp.experts.w1")
    gu[:, :, 1::2] += _expert_delta(ad, "model.layers.0.mlp.experts.w3")
    np.testing.assert_allclose(out["model.layers.0.mlp.experts.gate_up_proj"], gu, rtol=1e-5, atol=1e-6)
    down = base["model.layers.0.mlp.experts.down_proj"] + _expert_delta(ad, "model.layers.0.mlp.experts.w2")
    np.testing.assert_allclose(out["model.layers.0.mlp.experts.down_proj"], down, rtol=1e-5, atol=1e-6)


def test_qwen3_5_split_qkv_tied_embeddings_and_concatenated_experts(tmp_path: Path) -> None:
    h, e, inter = 4, 2, 3
    p = "model.language_model.layers.0"
    base = {
        f"{p}.linear_attn.in_proj_qkv.weight": _rand(4 + 2 + 3, h),
        f"{p}.mlp.experts.gate_up_proj": _rand(e, 2 * inter, h),  # Qwen3.5 MoE: (n, fused, hidden)
        "model.language_model.embed_tokens.weight": _rand(6, h),
    }
    ad = {
        **_ab("model.layers.0.linear_attn.in_proj_q", 4, h),
        **_ab("model.layers.0.linear_attn.in_proj_k", 2, h),
        **_ab("model.layers.0.linear_attn.in_proj_v", 3, h),
        **_ab("model.layers.0.mlp.experts.w3", inter, h, e),
        **_ab("model.unembed_tokens", 6, h),
    }
    out = _build(tmp_path, {"model_type": "qwen3_5_moe"}, base, ad)
    qkv = base[f"{p}.linear_attn.in_proj_qkv.weight"].copy()
    for role, (lo, hi) in {"q": (0, 4), "k": (4, 6), "v": (6, 9)}.items():
        pre = f"model.layers.0.linear_attn.in_proj_{role}"
        qkv[lo:hi] += ad[f"{pre}.lora_B.weight"] @ ad[f"{pre}.lora_A.weight"]
    np.testing.assert_allclose(out[f"{p}.linear_attn.in_proj_qkv.weight"], qkv, rtol=1e-5, atol=1e-6)
    gu = base[f"{p}.mlp.experts.gate_up_proj"].copy()
    gu[:, inter:, :] += _expert_delta(ad, "model.layers.0.mlp.experts.w3").transpose(0, 2, 1)
    np.testing.assert_allclose(out[f"{p}.mlp.experts.gate_up_proj"], gu, rtol=1e-5, atol=1e-6)
    emb = base["model.language_model.embed_tokens.weight"]
    emb = emb + ad["model.unembed_tokens.lora_B.weight"] @ ad["model.unembed_tokens.lora_A.weight"]
    np.testing.assert_allclose(out["model.language_model.embed_tokens.weight"], emb, rtol=1e-5, atol=1e-6)


def test_nemotron_backbone_prefix_fused_in_proj_and_two_projection_experts(tmp_path: Path) -> None:
    h, e = 4, 2
    base = {
        "backbone.layers.0.mixer.in_proj.weight": _rand(3 + 5 + 2, h),  # gate | x | (B, C, dt: not adapted)
        "backbone.layers.1.mixer.experts.0.up_proj.weight": _rand(3, h),
        "backbone.layers.1.mixer.experts.1.up_proj.weight": _rand(3, h),
        "lm_head.weight": _rand(6, h),
    }
    ad = {
        **_ab("model.layers.0.mixer.gate_proj", 3, h),
        **_ab("model.layers.0.mixer.x_proj", 5, h),
        **_ab("model.layers.1.mixer.experts.w1", 3, h, e),
        "model.layers.1.mixer.experts.w3.lora_A.weight": np.zeros((e, 2, 0), np.float32),  # Tinker's empty w3
        "model.layers.1.mixer.experts.w3.lora_B.weight": np.zeros((e, 0, 2), np.float32),
        **_ab("model.unembed_tokens", 6, h),
    }
    out = _build(tmp_path, {"architectures": ["NemotronHForCausalLM"], "model_type": "nemotron_h"}, base, ad)
    in_proj = base["backbone.layers.0.mixer.in_proj.weight"].copy()
    g, x = "model.layers.0.mixer.gate_proj", "model.layers.0.mixer.x_proj"
    in_proj[0:3] += ad[f"{g}.lora_B.weight"] @ ad[f"{g}.lora_A.weight"]
    in_proj[3:8] += ad[f"{x}.lora_B.weight"] @ ad[f"{x}.lora_A.weight"]
    np.testing.assert_allclose(out["backbone.layers.0.mixer.in_proj.weight"], in_proj, rtol=1e-5, atol=1e-6)
    a, b = ad["model.layers.1.mixer.experts.w1.lora_A.weight"], ad["model.layers.1.mixer.experts.w1.lora_B.weight"]
    for i in range(e):
        key = f"backbone.layers.1.mixer.experts.{i}.up_proj.weight"
        np.testing.assert_allclose(out[key], base[key] + b[i] @ a[i], rtol=1e-5, atol=1e-6)


def test_deepseek_separate_experts_with_a_shared_side(tmp_path: Path) -> None:
    h, inter = 4, 3
    base = {f"model.layers.3.mlp.experts.{i}.down_proj.weight": _rand(h, inter) for i in range(3)}
    base["lm_head.weight"] = _rand(5, h)
    ad = {
        "model.layers.3.mlp.experts.w2.lora_A.weight": _rand(1, 2, inter),  # shared across experts
        "model.layers.3.mlp.experts.w2.lora_B.weight": _rand(3, h, 2),
    }
    out = _build(tmp_path, {"model_type": "deepseek_v3"}, base, ad)
    a, b = ad["model.layers.3.mlp.experts.w2.lora_A.weight"], ad["model.layers.3.mlp.experts.w2.lora_B.weight"]
    for i in range(3):
        key = f"model.layers.3.mlp.experts.{i}.down_proj.weight"
        np.testing.assert_allclose(out[key], base[key] + b[i] @ a[0], rtol=1e-5, atol=1e-6)


def test_profiles_and_errors() -> None:
    assert detect_merge_profile({"architectures": ["GptOssForCausalLM"]}, set()).model_family == "gpt_oss"
    assert detect_merge_profile({"model_type": "kimi_k25"}, set()).model_family == "kimi_k25"
    assert detect_merge_profile({"model_type": "qwen3"}, {"model.layers.0.mlp.experts.gate_up_proj"}).expert_layout == (
        "fused_concatenated"
    )
    from tinkerlite.weights._merge import plan_merge_ops
    from tinkerlite.weights._safetensors import RawTensor

    adapter = {
        "base_model.model.model.layers.0.linear_attn.in_proj_q.lora_A.weight": RawTensor.from_numpy(_rand(2, 4)),
        "base_model.model.model.layers.0.linear_attn.in_proj_q.lora_B.weight": RawTensor.from_numpy(_rand(4, 2)),
    }
    keys = {"model.language_model.layers.0.linear_attn.in_proj_qkv.weight"}
    with pytest.raises(WeightsMergeError, match="requires all three in_proj_q/k/v"):
        plan_merge_ops(adapter, {"r": 2, "lora_alpha": 2}, keys, model_config={"model_type": "qwen3_5"})


def _adapter_dir(tmp_path: Path, config: dict, base: dict[str, np.ndarray], adapter: dict[str, np.ndarray]) -> Path:
    _write_inputs(tmp_path, config, base, adapter, lora_alpha=4)
    out = tmp_path / "peft"
    weights.build_lora_adapter(
        base_model=str(tmp_path / "base"), adapter_path=str(tmp_path / "adapter"), output_path=str(out)
    )
    return out


def test_peft_conversion_nemotron_fused_in_proj_and_experts(tmp_path: Path) -> None:
    h, e = 4, 2
    base = {
        "backbone.layers.0.mixer.in_proj.weight": _rand(3 + 5 + 2, h),
        "backbone.layers.1.mixer.experts.0.up_proj.weight": _rand(3, h),
        "backbone.layers.1.mixer.experts.1.up_proj.weight": _rand(3, h),
        "lm_head.weight": _rand(6, h),
    }
    ad = {
        **_ab("model.layers.0.mixer.gate_proj", 3, h),
        **_ab("model.layers.0.mixer.x_proj", 5, h),
        **_ab("model.layers.1.mixer.experts.w1", 3, h, e),
        "model.layers.1.mixer.experts.w3.lora_A.weight": np.zeros((e, 2, 0), np.float32),
        "model.layers.1.mixer.experts.w3.lora_B.weight": np.zeros((e, 0, 2), np.float32),
    }
    out = _adapter_dir(tmp_path, {"architectures": ["NemotronHForCausalLM"], "model_type": "nemotron_h"}, base, ad)
    peft = {k: v.to_numpy() for k, v in load_raw(out / "adapter_model.safetensors")[0].items()}
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["rank_pattern"] == {"in_proj": 4} and config["alpha_pattern"] == {"in_proj": 8}
    assert config["target_modules"] == ["in_proj", "up_proj"]
    fa, fb = (
        peft["base_model.model.model.layers.0.mixer.in_proj.lora_A.weight"],
        peft["base_model.model.model.layers.0.mixer.in_proj.lora_B.weight"],
    )
    assert fa.shape == (4, h) and fb.shape == (10, 4)
    g, x = "model.layers.0.mixer.gate_proj", "model.layers.0.mixer.x_proj"
    want = np.zeros((10, h), np.float32)  # the fused LoRA's delta is the components' deltas in their rows
    want[0:3] = ad[f"{g}.lora_B.weight"] @ ad[f"{g}.lora_A.weight"]
    want[3:8] = ad[f"{x}.lora_B.weight"] @ ad[f"{x}.lora_A.weight"]
    np.testing.assert_allclose(fb @ fa, want, rtol=1e-5, atol=1e-6)
    # Serving names: backbone. -> model.; the experts are per-expert 2-D keys.
    a1 = peft["base_model.model.model.layers.1.mixer.experts.1.up_proj.lora_A.weight"]
    np.testing.assert_array_equal(a1, ad["model.layers.1.mixer.experts.w1.lora_A.weight"][1])
    assert not any(".w3" in k or "backbone" in k for k in peft)


def test_peft_conversion_gpt_oss_shared_expert_side(tmp_path: Path) -> None:
    h, e = 4, 3
    base = {"model.layers.0.self_attn.q_proj.weight": _rand(h, h), "lm_head.weight": _rand(5, h)}
    base.update({f"model.layers.0.mlp.experts.{i}.down_proj.weight": _rand(h, 2) for i in range(e)})
    ad = {
        **_ab("model.layers.0.attn.q_proj", h, h),
        "model.layers.0.mlp.experts.w2.lora_A.weight": _rand(1, 2, 2),
        "model.layers.0.mlp.experts.w2.lora_B.weight": _rand(e, h, 2),
    }
    out = _adapter_dir(tmp_path, {"architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss"}, base, ad)
    peft = {k: v.to_numpy() for k, v in load_raw(out / "adapter_model.safetensors")[0].items()}
    assert "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight" in peft
    for i in range(e):
        np.testing.assert_array_equal(
            peft[f"base_model.model.model.layers.0.mlp.experts.{i}.down_proj.lora_A.weight"],
            ad["model.layers.0.mlp.experts.w2.lora_A.weight"][0],
        )
