"""The base models the local server serves: one built-in chat model and tiny stand-ins for real names.

Stand-ins keep the real tokenizer's vocabulary size (embedding rows, padding included) so that real
renderers and recipes run end to end; everything else about them is tiny and random. ``get_info``
reports the tokenizer id the client should load for each.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BUILTIN_MODEL", "BaseModelSpec", "default_registry", "lookup"]

BUILTIN_MODEL = "tinkerlite/tiny-chat"


@dataclass(frozen=True)
class BaseModelSpec:
    """Shape and identity of one served base model (arguments for ``ModelConfig``)."""

    name: str
    tokenizer_id: str
    vocab_size: int
    eos_token_ids: tuple[int, ...]
    arch: str = "tiny-transformer"
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    d_ff: int = 256
    max_seq_len: int = 2048
    seed: int = 0

    def model_config(self) -> object:
        """A ``ModelConfig`` (imported lazily: numpy is an optional extra)."""
        from .model import ModelConfig

        return ModelConfig(
            vocab_size=self.vocab_size,
            d_model=self.d_model,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            d_ff=self.d_ff,
            max_seq_len=self.max_seq_len,
            seed=self.seed,
        )


_QWEN3_VOCAB = 151_936  # Qwen3 embedding rows (151,669 tokens padded to a multiple of 128)
_QWEN3_EOS = (151_645, 151_643)  # <|im_end|>, <|endoftext|>
_LLAMA3_VOCAB = 128_256
_LLAMA3_EOS = (128_009, 128_001)  # <|eot_id|>, <|end_of_text|>


def default_registry() -> dict[str, BaseModelSpec]:
    specs = [
        BaseModelSpec(BUILTIN_MODEL, "tinkerlite/byte-chat", 512, (257,), d_model=128, d_ff=512, n_heads=4, seed=1),
        BaseModelSpec("Qwen/Qwen3-8B", "Qwen/Qwen3-8B", _QWEN3_VOCAB, _QWEN3_EOS, seed=2),
        BaseModelSpec("Qwen/Qwen3-4B-Instruct-2507", "Qwen/Qwen3-4B-Instruct-2507", _QWEN3_VOCAB, _QWEN3_EOS, seed=3),
        BaseModelSpec("Qwen/Qwen3-30B-A3B", "Qwen/Qwen3-30B-A3B", _QWEN3_VOCAB, _QWEN3_EOS, seed=4),
        BaseModelSpec("meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-1B", _LLAMA3_VOCAB, _LLAMA3_EOS, seed=5),
        BaseModelSpec("meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B", _LLAMA3_VOCAB, _LLAMA3_EOS, seed=6),
    ]
    return {s.name: s for s in specs}


def lookup(registry: dict[str, BaseModelSpec], name: object) -> BaseModelSpec | None:
    return registry.get(name) if isinstance(name, str) else None
