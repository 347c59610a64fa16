"""Small shared builders for the local model's tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinkerlite.local.model import DatumArrays, LoraSpec, ModelConfig, TinyTransformer

TINY = ModelConfig(vocab_size=19, d_model=16, n_layers=2, n_heads=2, d_ff=24, max_seq_len=12, seed=3)


def tiny_model(lora: LoraSpec | None = None, dtype: Any = "float64", randomize: bool = True) -> TinyTransformer:
    """A float64 model whose adapters are all non-zero, so every gradient path carries signal."""
    model = TinyTransformer(TINY, lora or LoraSpec(rank=3, alpha=6.0, seed=5), dtype=dtype)
    if randomize:
        rng = np.random.default_rng(11)
        for arr in model.params.values():
            arr[...] = rng.normal(0.0, 0.3, arr.shape)
    return model


def ce_datum(rng: np.random.Generator, length: int, vocab: int, k: int | None = None) -> DatumArrays:
    shape = (length,) if k is None else (length, k)
    return DatumArrays(
        rng.integers(0, vocab, length),
        {"target_tokens": rng.integers(0, vocab, shape), "weights": rng.uniform(-0.5, 1.5, shape)},
    )
