"""The local model in HuggingFace layout: PEFT adapter files, a base-model directory, and its forward pass.

This is what lets the weights tools (:mod:`tinkerlite.weights`) treat a LoRA trained on the local server
like one trained on Tinker: ``save_weights_external`` writes ``adapter_model.safetensors`` plus
``adapter_config.json`` with Tinker's adapter naming (``base_model.model.model.layers.N.self_attn.q_proj``,
``base_model.model.model.unembed_tokens``; PEFT shapes ``lora_A`` [r, in], ``lora_B`` [out, r]), and
:func:`export_base_model` / :func:`save_base_model` write the frozen base as an HF-style model directory
(``config.json`` + ``model.safetensors``) for the merge to start from.

HF names of :class:`~tinkerlite.local.model.TinyTransformer`'s weights (HF stores ``[out, in]``, the model
keeps ``[in, out]``, so every matrix is transposed)::

    model.embed_tokens.weight [V, d]        model.embed_positions.weight [S, d]
    model.layers.N.self_attn.{q,k,v,o}_proj.weight [d, d]
    model.layers.N.mlp.up_proj.weight [d_ff, d]      model.layers.N.mlp.down_proj.weight [d, d_ff]
    lm_head.weight [V, d]                   (written untied, so an unembedding adapter merges into it alone)

:func:`forward_logits` runs the model from such a weight dict (merged or not), so a merged export can be
checked against the server's own log-probs.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tinkerlite._optional import require

np = require("numpy", "the local server's HF export", extra="local")

__all__ = [
    "ARCHITECTURE",
    "adapter_files",
    "base_state_dict",
    "export_base_model",
    "forward_logits",
    "hf_config",
    "save_base_model",
]

ARCHITECTURE = "TinkerliteTinyForCausalLM"
_SITE_TO_HF = {"attn.q": "self_attn.q_proj", "attn.k": "self_attn.k_proj", "attn.v": "self_attn.v_proj",
               "attn.o": "self_attn.o_proj", "mlp.fc1": "mlp.up_proj", "mlp.fc2": "mlp.down_proj"}  # fmt: skip


def _hf_site(site: str) -> str:
    """``layers.0.attn.q`` -> ``model.layers.0.self_attn.q_proj``; ``unembed`` -> ``model.unembed_tokens``."""
    if site == "unembed":
        return "model.unembed_tokens"
    layer, idx, rest = site.split(".", 2)
    return f"model.{layer}.{idx}.{_SITE_TO_HF[rest]}"


def hf_config(model: Any, base_model: str) -> dict[str, Any]:
    """``config.json`` for the model: its shape, and the name it stands in for."""
    c = model.config
    return {
        "architectures": [ARCHITECTURE],
        "model_type": "tinkerlite_tiny",
        "tinkerlite_base_model": base_model,
        "vocab_size": c.vocab_size,
        "hidden_size": c.d_model,
        "num_hidden_layers": c.n_layers,
        "num_attention_heads": c.n_heads,
        "intermediate_size": c.d_ff,
        "max_position_embeddings": c.max_seq_len,
        "hidden_act": "gelu_pytorch_tanh",
        "rms_norm_eps": 1e-5,
        "tie_word_embeddings": False,
        "seed": c.seed,
        "torch_dtype": "float32",
    }


def base_state_dict(model: Any) -> dict[str, Any]:
    """The frozen base weights under HF names, ``[out, in]`` (float32 copies)."""
    out = {
        "model.embed_tokens.weight": model.base["embed"],
        "model.embed_positions.weight": model.base["pos"],
        "lm_head.weight": model.base["embed"],
    }
    for key, arr in model.base.items():
        if key.startswith("layers."):
            out[f"{_hf_site(key)}.weight"] = arr.T
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def adapter_files(model: Any, base_model: str) -> dict[str, bytes]:
    """``adapter_model.safetensors`` and ``adapter_config.json`` of the model's current adapters."""
    from tinkerlite.weights._safetensors import RawTensor, save

    spec = model.lora_spec
    if spec is None or not model.sites:
        raise ValueError("this model has no LoRA adapters to export")
    tensors: dict[str, Any] = {}
    targets: set[str] = set()
    for site in model.sites:
        hf = _hf_site(site)
        targets.add(hf.rsplit(".", 1)[-1])
        a, b = model.params[f"{site}.lora_A"], model.params[f"{site}.lora_B"]  # [in, r], [r, out]
        tensors[f"base_model.model.{hf}.lora_A.weight"] = RawTensor.from_numpy(np.ascontiguousarray(a.T, np.float32))
        tensors[f"base_model.model.{hf}.lora_B.weight"] = RawTensor.from_numpy(np.ascontiguousarray(b.T, np.float32))
    alpha = spec.rank if spec.alpha is None else spec.alpha
    config = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": base_model,
        "r": spec.rank,
        "lora_alpha": alpha,
        "lora_dropout": 0.0,
        "bias": "none",
        "target_modules": sorted(targets),
        "fan_in_fan_out": False,
        "inference_mode": True,
        "tinkerlite": {"architecture": ARCHITECTURE, "model_config": hf_config(model, base_model)},
    }
    return {
        "adapter_model.safetensors": save(tensors, {"format": "pt"}),
        "adapter_config.json": (json.dumps(config, indent=2) + "\n").encode(),
    }


def save_base_model(model: Any, base_model: str, output_dir: str | os.PathLike[str]) -> Path:
    """Write the frozen base as an HF-style directory (``config.json`` + ``model.safetensors``)."""
    from tinkerlite.utils.files import atomic_write_bytes
    from tinkerlite.weights._safetensors import save_file

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file(base_state_dict(model), out / "model.safetensors", {"format": "pt"})
    atomic_write_bytes(out / "config.json", (json.dumps(hf_config(model, base_model), indent=2) + "\n").encode())
    return out


def export_base_model(base_model: str, output_dir: str | os.PathLike[str]) -> Path:
    """Write the local server's stand-in for ``base_model`` (any served name) as an HF model directory.

    The weights are the ones the server uses (drawn from the same seed), so
    ``weights.build_hf_model(base_model=output_dir, ...)`` merges an adapter trained on the server exactly.
    """
    from .base_models import default_registry, lookup
    from .model import TinyTransformer

    spec = lookup(default_registry(), base_model)
    if spec is None:
        raise KeyError(f"the local server serves no model {base_model!r}")
    return save_base_model(TinyTransformer(spec.model_config()), spec.name, output_dir)  # type: ignore[arg-type]


def _rms(x: Any) -> Any:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + 1e-5)


def forward_logits(weights: Mapping[str, Any], config: Mapping[str, Any], tokens: Any) -> Any:
    """Logits [T, V] for one token sequence, from HF-named weights and ``config.json`` (float32)."""
    n_layers, n_heads = int(config["num_hidden_layers"]), int(config["num_attention_heads"])
    toks = np.asarray(tokens, dtype=np.int64)
    t = toks.shape[0]
    w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
    x = w["model.embed_tokens.weight"][toks] + w["model.embed_positions.weight"][:t]
    d = x.shape[-1]
    hd = d // n_heads
    mask = np.triu(np.ones((t, t), dtype=bool), k=1)
    for layer in range(n_layers):
        p = f"model.layers.{layer}"
        h = _rms(x)
        q, k, v = (
            (h @ w[f"{p}.self_attn.{n}_proj.weight"].T).reshape(t, n_heads, hd).transpose(1, 0, 2) for n in "qkv"
        )
        scores = (q @ k.transpose(0, 2, 1)) * (1.0 / math.sqrt(hd))
        scores[:, mask] = -np.inf
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        o = (scores @ v).transpose(1, 0, 2).reshape(t, d)
        x = x + o @ w[f"{p}.self_attn.o_proj.weight"].T
        u = _rms(x) @ w[f"{p}.mlp.up_proj.weight"].T
        a = 0.5 * u * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (u + 0.044715 * u**3)))
        x = x + a @ w[f"{p}.mlp.down_proj.weight"].T
    return _rms(x) @ w["lm_head.weight"].T
