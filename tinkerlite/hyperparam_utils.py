"""Learning-rate and LoRA-size heuristics of the cookbook, driven by vendor configs instead of the HF hub.

Same public functions, signatures and numbers as ``tinker_cookbook.hyperparam_utils`` (0.6.1):

* ``get_lr`` scales ``5e-5`` (times 10 for LoRA) by ``(2000 / hidden_size) ** exponent``, with the
  cookbook's per-family exponents (Llama 0.781, Qwen 0.0775); families Tinker has not calibrated raise
  ``NotImplementedError`` exactly where the cookbook does.
* LoRA parameter counts are derived from each model's architecture fields. Every adapted 2-D weight
  ``[d_in, d_out]`` costs ``d_in + d_out`` per unit of rank; MoE experts share the factor on the model's
  hidden dimension ("shared-outer" LoRA), so an expert projection costs ``hidden + n_experts * d_expert``.
  The MoE router and DeepSeek-style ``q_b_proj`` / ``kv_b_proj`` are not adapted; for the hybrid Qwen3.5
  (Gated DeltaNet) and Nemotron-H (Mamba-2) mixers the rules are fitted to Tinker's measurements. For the
  models with no published config the vendor config carries Tinker's measured per-rank counts instead.
  Tests check every derived count against the cookbook's measured table.
* ``get_full_finetune_param_count`` counts the weights of plain Llama / Qwen3 checkpoints from the config;
  the cookbook reads safetensors headers from the hub, which tinkerlite cannot reach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import ValidationError
from .vendor_configs_loader import VendorConfig, base_model_name, load_vendor_config

__all__ = [
    "LoraParamsPerRank",
    "get_full_finetune_lr_multiplier",
    "get_full_finetune_param_count",
    "get_hidden_size",
    "get_lora_lr_multiplier",
    "get_lora_lr_over_full_finetune_lr",
    "get_lora_param_count",
    "get_lora_params_per_rank",
    "get_lr",
]

_BASE_LR = 5e-05
_LORA_LR_MULTIPLIER = 10.0
_LR_EXPONENT = {"llama": 0.781, "qwen": 0.0775}


@dataclass(frozen=True)
class LoraParamsPerRank:
    """LoRA parameters per unit of rank, split like ``create_lora_training_client``'s train_* flags.

    ``mlp_experts`` is the part of ``mlp`` spent on MoE experts (routed plus shared); 0 for dense models,
    None where the count is Tinker's measurement rather than derived from the architecture.
    """

    mlp: int
    attn: int
    unembed: int
    mlp_experts: int | None
    derived: bool

    def total(self, train_mlp: bool = True, train_attn: bool = True, train_unembed: bool = True) -> int:
        return (self.mlp if train_mlp else 0) + (self.attn if train_attn else 0) + (
            self.unembed if train_unembed else 0
        )


def get_lora_lr_over_full_finetune_lr(model_name: str, lora_alpha: int = 32) -> float:
    """Factor from a full fine-tuning LR to the equivalent LoRA LR.

    The cookbook fixed this at 10 ("LoRA Without Regret"); both arguments are kept for API compatibility.
    """
    return _LORA_LR_MULTIPLIER


def get_hidden_size(model_name: str) -> int:
    """The model's hidden size (the text tower's for VL models), from its vendor config."""
    return load_vendor_config(model_name).hidden_size


def get_lr(model_name: str, is_lora: bool = True) -> float:
    """Recommended learning rate, scaled from the model's hidden size.

    Raises ``NotImplementedError`` for models whose formula Tinker has not calibrated yet, and
    ``ValidationError`` (a ValueError, like the cookbook's ``ConfigurationError``) for models outside the
    Llama/Qwen families; unknown ids raise ``UnknownModelError``.
    """
    vc = load_vendor_config(model_name)
    lr = _BASE_LR * _LORA_LR_MULTIPLIER if is_lora else _BASE_LR
    if vc.lr_formula is None:
        raise ValidationError(
            f"no learning-rate formula for {base_model_name(model_name)!r}: the cookbook only calibrates the "
            "Llama and Qwen families; please specify a learning rate manually",
            field="model_name",
        )
    if vc.lr_formula == "uncalibrated":
        raise NotImplementedError(
            f"Learning rate formula for {base_model_name(model_name)} is not yet calibrated. "
            "Please specify a learning rate manually."
        )
    scale: float = (2000 / vc.hidden_size) ** _LR_EXPONENT[vc.lr_formula]
    return lr * scale


# ---- LoRA parameter counts ---------------------------------------------------------------------------


def _gqa_attention(vc: VendorConfig, *, gated: bool = False) -> int:
    """q, k, v, o of grouped-query attention; ``gated`` doubles q (Qwen3.5's output gate)."""
    h = vc.hidden_size
    hd = vc.int_field("head_dim", h // vc.int_field("num_attention_heads"))
    q_out = vc.int_field("num_attention_heads") * hd
    kv_out = vc.int_field("num_key_value_heads") * hd
    return (h + q_out * (2 if gated else 1)) + 2 * (h + kv_out) + (q_out + h)


def _mla_attention(vc: VendorConfig) -> int:
    """DeepSeek multi-head latent attention: q_a, kv_a (with the rope part) and o; the b projections are not
    adapted by Tinker."""
    h = vc.hidden_size
    heads = vc.int_field("num_attention_heads")
    q_lora = vc.int_field("q_lora_rank")
    kv_a_out = vc.int_field("kv_lora_rank") + vc.int_field("qk_rope_head_dim")
    return (h + q_lora) + (h + kv_a_out) + (heads * vc.int_field("v_head_dim") + h)


def _gated_deltanet(vc: VendorConfig) -> int:
    """Qwen3.5 linear-attention layer: separate q, k, v, z projections and out_proj; the one-column-per-head
    a / b projections are not adapted (a rule fitted to Tinker's measured counts)."""
    h = vc.hidden_size
    key_dim = vc.int_field("linear_num_key_heads") * vc.int_field("linear_key_head_dim")
    value_dim = vc.int_field("linear_num_value_heads") * vc.int_field("linear_value_head_dim")
    return 2 * (h + key_dim) + 2 * (h + value_dim) + (value_dim + h)


def _mamba2(vc: VendorConfig) -> int:
    """Nemotron-H Mamba-2 mixer: the z and x parts of in_proj and out_proj, each hidden <-> heads*head_dim; the
    B, C and dt parts are not adapted (a rule fitted to Tinker's measured counts)."""
    return 3 * (vc.hidden_size + vc.int_field("mamba_num_heads") * vc.int_field("mamba_head_dim"))


def _experts(vc: VendorConfig, n_proj: int = 3) -> int:
    """Routed experts with shared-outer LoRA: the hidden-side factor once, the expert-side factor per expert."""
    return n_proj * (vc.hidden_size + vc.int_field("num_experts") * vc.int_field("moe_intermediate_size"))


def _swiglu(hidden: int, intermediate: int) -> int:
    return 3 * (hidden + intermediate)


def _derive(vc: VendorConfig) -> LoraParamsPerRank:
    arch = vc.architecture
    h = vc.hidden_size
    layers = vc.int_field("num_hidden_layers")
    unembed = h + vc.int_field("vocab_size")
    if arch in ("llama", "qwen3"):
        mlp = layers * _swiglu(h, vc.int_field("intermediate_size"))
        return LoraParamsPerRank(mlp, layers * _gqa_attention(vc), unembed, 0, True)
    if arch in ("qwen3_moe", "gpt_oss"):
        experts = layers * _experts(vc)
        return LoraParamsPerRank(experts, layers * _gqa_attention(vc), unembed, experts, True)
    if arch == "deepseek_v3":
        dense_layers = vc.int_field("first_k_dense_replace")
        moe_layers = layers - dense_layers
        shared = vc.int_field("n_shared_experts") * vc.int_field("moe_intermediate_size")
        experts = moe_layers * (_experts(vc) + _swiglu(h, shared))
        mlp = dense_layers * _swiglu(h, vc.int_field("intermediate_size")) + experts
        return LoraParamsPerRank(mlp, layers * _mla_attention(vc), unembed, experts, True)
    if arch in ("qwen3_5", "qwen3_5_moe"):
        full_layers = layers // vc.int_field("full_attention_interval")
        attn = full_layers * _gqa_attention(vc, gated=True) + (layers - full_layers) * _gated_deltanet(vc)
        if arch == "qwen3_5":
            return LoraParamsPerRank(layers * _swiglu(h, vc.int_field("intermediate_size")), attn, unembed, 0, True)
        experts = layers * (_experts(vc) + _swiglu(h, vc.int_field("shared_expert_intermediate_size")))
        return LoraParamsPerRank(experts, attn, unembed, experts, True)
    if arch == "nemotron_h":
        return _derive_nemotron_h(vc, unembed)
    if arch == "tinkerlite_tiny":
        # tinkerlite.local.model: full multi-head attention and a two-matrix GELU MLP (fc1, fc2).
        mlp = layers * 2 * (h + vc.int_field("intermediate_size"))
        return LoraParamsPerRank(mlp, layers * _gqa_attention(vc), unembed, 0, True)
    raise ValidationError(
        f"{vc.path}: no LoRA count formula for architecture {arch!r} and no measured lora_params_per_rank",
        field="lora_params_per_rank",
    )


def _derive_nemotron_h(vc: VendorConfig, unembed: int) -> LoraParamsPerRank:
    """Hybrid stack: one mixer per layer, ``M`` Mamba-2, ``*`` attention, ``E`` MoE (squared-ReLU up/down)."""
    pattern = vc.config.get("hybrid_override_pattern")
    if not isinstance(pattern, str) or len(pattern) != vc.int_field("num_hidden_layers"):
        raise ValidationError(f"{vc.path}: needs one hybrid_override_pattern symbol per layer",
                              field="config.hybrid_override_pattern")
    unknown = set(pattern) - set("M*E")
    if unknown:
        raise ValidationError(f"{vc.path}: no LoRA count rule for layer kinds {sorted(unknown)}",
                              field="config.hybrid_override_pattern")
    h = vc.hidden_size
    shared = 2 * (h + vc.int_field("shared_expert_intermediate_size"))
    experts = pattern.count("E") * (_experts(vc, n_proj=2) + shared)
    attn = pattern.count("M") * _mamba2(vc) + pattern.count("*") * _gqa_attention(vc)
    return LoraParamsPerRank(experts, attn, unembed, experts, True)


def get_lora_params_per_rank(model_name: str) -> LoraParamsPerRank:
    """Per-component LoRA parameters per unit of rank (mlp / attn / unembed, with the MoE-expert share)."""
    vc = load_vendor_config(model_name)
    measured = vc.lora_params_per_rank
    if measured is not None:
        return LoraParamsPerRank(measured["mlp"], measured["attn"], measured["unembed"], None, False)
    return _derive(vc)


def get_lora_param_count(
    model_name: str,
    lora_rank: int = 32,
    train_mlp: bool = True,
    train_attn: bool = True,
    train_unembed: bool = True,
) -> int:
    """Trainable parameters of a LoRA adapter with these ``create_lora_training_client`` flags."""
    if not (train_mlp or train_attn or train_unembed):
        raise ValidationError("At least one of train_mlp, train_attn, or train_unembed must be True.")
    return get_lora_params_per_rank(model_name).total(train_mlp, train_attn, train_unembed) * lora_rank


# ---- full fine-tuning ----------------------------------------------------------------------------------


def get_full_finetune_param_count(model_name: str) -> float:
    """Number of weights in the checkpoint (what the cookbook sums over safetensors headers).

    Supported for the plain bf16 text checkpoints (Llama 3.x, Qwen3 dense and MoE); other architectures
    (quantized, multimodal, MTP or hybrid checkpoints) raise NotImplementedError because their tensor
    lists are not derivable from the config alone.
    """
    vc = load_vendor_config(model_name)
    arch = vc.architecture
    if arch not in ("llama", "qwen3", "qwen3_moe") or vc.attributes["is_vl"]:
        raise NotImplementedError(
            f"full parameter count of {base_model_name(model_name)} (architecture {arch}) is not derivable "
            "from its vendor config; the cookbook reads it from safetensors headers on the HF hub"
        )
    h = vc.hidden_size
    heads = vc.int_field("num_attention_heads")
    hd = vc.int_field("head_dim", h // heads)
    q_out, kv_out = heads * hd, vc.int_field("num_key_value_heads") * hd
    per_layer = h * q_out + 2 * h * kv_out + q_out * h + 2 * h  # attention projections + two RMSNorms
    if arch in ("qwen3", "qwen3_moe"):
        per_layer += 2 * hd  # q_norm, k_norm
    if arch == "qwen3_moe":
        n_experts = vc.int_field("num_experts")
        per_layer += n_experts * h + n_experts * 3 * h * vc.int_field("moe_intermediate_size")
    else:
        per_layer += 3 * h * vc.int_field("intermediate_size")
    embeddings = vc.int_field("vocab_size") * h * (1 if vc.config.get("tie_word_embeddings") else 2)
    return float(embeddings + vc.int_field("num_hidden_layers") * per_layer + h)


def get_full_finetune_lr_multiplier(model_name: str) -> float:
    """LR multiplier for full fine-tuning, proportional to ``1 / sqrt(param_count)``."""
    return 1.0 / math.sqrt(get_full_finetune_param_count(model_name))


def get_lora_lr_multiplier(model_name: str) -> float:
    """Multiplier for transferring a known-good LoRA LR between models (``LR_B = LR_A * m(B) / m(A)``)."""
    return get_full_finetune_lr_multiplier(model_name) * get_lora_lr_over_full_finetune_lr(model_name)
