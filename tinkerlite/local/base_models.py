"""The base models the local server serves: its own chat model and a tiny stand-in for every real name.

Every model with a file in ``vendor_configs/`` is served, so a recipe that names a real model
(``Qwen/Qwen3.5-9B``, ``moonshotai/Kimi-K2.6``, ...) runs offline. A stand-in keeps what a client can
observe of the real model's tokenizer — the vocabulary size (embedding rows, padding included), the
EOS ids the sampler stops on and the tokenizer id ``get_info`` reports — and is otherwise a tiny random
transformer (d_model 64, 2 layers) whose weights are drawn from a per-model seed. The registry holds only
these small specs; the weights are built on first use (see :class:`~tinkerlite.local.service.LocalService`),
never at server start.

Family facts come from :data:`FAMILIES`. The vocabulary size is the vendor config's ``vocab_size``; where the
config is unpublished it is Tinker's measured unembedding LoRA count per rank minus ``hidden_size`` (an
unembedding adapter has ``hidden + vocab`` parameters per rank), which reproduces every published vocabulary
exactly. Families marked ``assumed`` have no public tokenizer data: their EOS ids are those of the family
they descend from, and say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "BUILTIN_MODEL",
    "FAMILIES",
    "BaseModelSpec",
    "TokenizerFamily",
    "default_registry",
    "family_for_model",
    "lookup",
    "spec_for_vendor_config",
]

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
    family: str = "tinkerlite"

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


@dataclass(frozen=True)
class TokenizerFamily:
    """What a stand-in copies from its family's tokenizer."""

    name: str
    eos_token_ids: tuple[int, ...]  # the sampler's default stop ids, chat end token first
    source: str  # where the ids come from
    assumed: bool = False  # no public tokenizer data: ids inherited from the parent family


FAMILIES: dict[str, TokenizerFamily] = {
    f.name: f
    for f in (
        TokenizerFamily("tinkerlite", (257,), "tinkerlite's byte-chat tokenizer (tinkerlite.tokenizers.byte_level)"),
        TokenizerFamily("qwen3", (151_645, 151_643), "<|im_end|>, <|endoftext|> (docs/tokenizer-sources.md)"),
        TokenizerFamily("qwen3_5", (248_046, 248_044), "<|im_end|>, <|endoftext|> of Qwen3.5's tokenizer_config"),
        TokenizerFamily("llama3", (128_009, 128_001, 128_008), "<|eot_id|>, <|end_of_text|>, <|eom_id|>"),
        TokenizerFamily("deepseek_v3", (1,), "<｜end▁of▁sentence｜> (docs/tokenizer-sources.md)"),
        TokenizerFamily("deepseek_v4", (1,), "DeepSeek V3's <｜end▁of▁sentence｜>", assumed=True),
        TokenizerFamily("kimi_k2", (163_586, 163_585), "<|im_end|>, [EOS] (docs/tokenizer-sources.md)"),
        TokenizerFamily("kimi_k3", (163_586, 163_585), "Kimi K2's <|im_end|>, [EOS]", assumed=True),
        TokenizerFamily("gpt_oss", (200_002, 200_012), "harmony <|return|>, <|call|> (docs/tokenizer-sources.md)"),
        TokenizerFamily("nemotron3", (11, 2), "<|im_end|>, </s> of Nemotron 3's generation_config"),
        TokenizerFamily("glm5", (154_820, 154_827, 154_829), "<|endoftext|>, <|user|>, <|observation|> of GLM-5"),
        TokenizerFamily("inkling", (199_999,), "o200k's <|endoftext|> (tml-renderers' chat table)", assumed=True),
    )
}

# Model-name prefix -> family; the first match wins, so longer prefixes come first.
_FAMILY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("tinkerlite/", "tinkerlite"),
    ("Qwen/Qwen3.5-", "qwen3_5"),
    ("Qwen/Qwen3.6-", "qwen3_5"),
    ("Qwen/Qwen3.8-", "qwen3_5"),
    ("Qwen/Qwen3-", "qwen3"),
    ("meta-llama/Llama-3", "llama3"),
    ("deepseek-ai/DeepSeek-V3", "deepseek_v3"),
    ("deepseek-ai/DeepSeek-V4", "deepseek_v4"),
    ("moonshotai/Kimi-K2", "kimi_k2"),
    ("moonshotai/Kimi-K3", "kimi_k3"),
    ("openai/gpt-oss", "gpt_oss"),
    ("nvidia/NVIDIA-Nemotron-3", "nemotron3"),
    ("zai-org/GLM-5", "glm5"),
    ("thinkingmachines/Inkling", "inkling"),
)

# The built-in model keeps its historical shape (tests and the README's numbers depend on it).
_BUILTIN = BaseModelSpec(BUILTIN_MODEL, "tinkerlite/byte-chat", 512, (257,), d_model=128, d_ff=512, n_heads=4, seed=1)


def family_for_model(model_name: str) -> TokenizerFamily:
    """The tokenizer family of a vendor-config model name; a name no family claims raises ``KeyError``."""
    for prefix, family in _FAMILY_PREFIXES:
        if model_name.startswith(prefix):
            return FAMILIES[family]
    raise KeyError(f"no tokenizer family is known for {model_name!r}")


def _seed_for(name: str) -> int:
    """A stable per-model seed (FNV-1a of the name), so stand-ins of one family differ."""
    h = 0xCBF29CE484222325
    for byte in name.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h & 0x7FFFFFFF


def spec_for_vendor_config(vc: object) -> BaseModelSpec:
    """The stand-in for one :class:`~tinkerlite.vendor_configs_loader.VendorConfig`."""
    from tinkerlite.vendor_configs_loader import VendorConfig

    assert isinstance(vc, VendorConfig)
    if vc.model_name == BUILTIN_MODEL:
        return _BUILTIN
    family = family_for_model(vc.model_name)
    vocab = vc.vocab_size
    if any(not 0 <= t < vocab for t in family.eos_token_ids):
        raise ValueError(f"{vc.path}: EOS ids {family.eos_token_ids} do not fit the vocabulary of {vocab}")
    return BaseModelSpec(
        name=vc.model_name,
        tokenizer_id=vc.model_name,
        vocab_size=vocab,
        eos_token_ids=family.eos_token_ids,
        seed=_seed_for(vc.model_name),
        family=family.name,
    )


def default_registry() -> dict[str, BaseModelSpec]:
    """Every vendor-config model, keyed by name (specs only: no weights are built here)."""
    from tinkerlite.vendor_configs_loader import load_all

    specs = {name: spec_for_vendor_config(vc) for name, vc in load_all().items()}
    specs.setdefault(BUILTIN_MODEL, _BUILTIN)
    return specs


def lookup(registry: Mapping[str, BaseModelSpec], name: object) -> BaseModelSpec | None:
    """The spec for ``name``; Tinker's variant suffix (``"org/model:peft:131072"``) is ignored."""
    if not isinstance(name, str):
        return None
    return registry.get(name) or registry.get(name.split(":", 1)[0])
