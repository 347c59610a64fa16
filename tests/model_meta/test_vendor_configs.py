"""The vendor_configs/*.json files and their loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tinkerlite import hyperparam_utils as hp
from tinkerlite.errors import ValidationError
from tinkerlite.vendor_configs_loader import (
    UnknownModelError,
    base_model_name,
    known_model_names,
    load_all,
    load_vendor_config,
    parse_vendor_config,
    vendor_configs_root,
)

from ._goldens import LOCAL_ONLY, official_models

REPO_CONFIGS = Path(__file__).resolve().parents[2] / "vendor_configs"

# Weight counts published on the HF hub (model API field ``safetensors.total``), which is what the cookbook's
# get_full_finetune_param_count sums from safetensors headers. Sources (public code quoting them):
# Llama-3.1-8B / 3.1-70B: an HF_API table "exact parameter counts from the Hugging Face model API
# safetensors.total"; Llama-3.2-1B/3B, 3.3-70B: a model-license table; Qwen3-8B: a mocked HF API reply
# {"safetensors":{"total":8190735360}} and llama.cpp n_params; Qwen3-30B-A3B: GGUF general.parameter_count.
PUBLISHED_PARAM_COUNTS = {
    "meta-llama/Llama-3.1-8B": 8_030_261_248,
    "meta-llama/Llama-3.1-70B": 70_553_706_496,
    "meta-llama/Llama-3.3-70B-Instruct": 70_553_706_496,
    "meta-llama/Llama-3.2-1B": 1_235_814_400,
    "meta-llama/Llama-3.2-3B": 3_212_749_824,
    "Qwen/Qwen3-8B": 8_190_735_360,
    "Qwen/Qwen3-30B-A3B": 30_532_122_624,
}


def test_every_cookbook_model_has_a_vendor_config() -> None:
    assert set(official_models()) | LOCAL_ONLY == set(known_model_names())


def test_files_are_well_formed_and_sourced() -> None:
    files = sorted(REPO_CONFIGS.glob("*.json"))
    assert len(files) == len(load_all()) == 47
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert path.name == doc["model_name"].replace("/", "--") + ".json"
        assert len(doc["_source"]) > 40, path.name
        vc = parse_vendor_config(doc, path.name)
        assert vc.local == (vc.model_name in LOCAL_ONLY)
        if vc.architecture == "unpublished":
            assert vc.lora_params_per_rank is not None, path.name  # nothing else to derive counts from
            assert set(vc.config) == {"architecture", "hidden_size"}, path.name  # no invented fields


_PUBLISHED = sorted(m for m in official_models() if load_vendor_config(m).architecture != "unpublished")


@pytest.mark.parametrize("model", _PUBLISHED)
def test_published_architectures_carry_the_core_fields(model: str) -> None:
    cfg = load_vendor_config(model).config
    for field in ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "vocab_size"):
        assert isinstance(cfg[field], int) and cfg[field] > 0, field
    for field in ("max_position_embeddings", "tie_word_embeddings", "head_dim", "intermediate_size"):
        assert field in cfg, field  # present, possibly null where unverified
    if "num_experts" in cfg:
        assert cfg["moe_intermediate_size"] > 0 and 0 < cfg["num_experts_per_tok"] < cfg["num_experts"]


def test_tiny_chat_matches_the_local_server_model() -> None:
    from tinkerlite.local.base_models import BUILTIN_MODEL, default_registry

    spec = default_registry()[BUILTIN_MODEL]
    vc = load_vendor_config(BUILTIN_MODEL)
    assert vc.local
    cfg = vc.config
    assert (cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["intermediate_size"]) == (
        spec.d_model, spec.n_layers, spec.n_heads, spec.d_ff)
    assert cfg["vocab_size"] == spec.vocab_size == 512
    assert cfg["max_position_embeddings"] == spec.max_seq_len


def test_tiny_chat_lora_count_equals_the_local_model_adapters() -> None:
    pytest.importorskip("numpy")
    from tinkerlite.local.base_models import BUILTIN_MODEL, default_registry
    from tinkerlite.local.model import LoraSpec, ModelConfig, TinyTransformer

    spec = default_registry()[BUILTIN_MODEL]
    for rank, flags in ((4, (True, True, True)), (8, (True, False, False)), (2, (False, True, True))):
        mlp, attn, unembed = flags
        config = spec.model_config()
        assert isinstance(config, ModelConfig)
        model = TinyTransformer(config, LoraSpec(rank=rank, train_mlp=mlp, train_attn=attn, train_unembed=unembed))
        actual = sum(int(p.size) for p in model.params.values())
        assert hp.get_lora_param_count(BUILTIN_MODEL, rank, mlp, attn, unembed) == actual


@pytest.mark.parametrize("model", sorted(PUBLISHED_PARAM_COUNTS))
def test_full_param_count_matches_published_total(model: str) -> None:
    assert hp.get_full_finetune_param_count(model) == PUBLISHED_PARAM_COUNTS[model]
    assert hp.get_full_finetune_lr_multiplier(model) == 1.0 / PUBLISHED_PARAM_COUNTS[model] ** 0.5
    assert hp.get_lora_lr_multiplier(model) == pytest.approx(10.0 / PUBLISHED_PARAM_COUNTS[model] ** 0.5, rel=1e-15)


def test_full_param_count_refuses_what_it_cannot_derive() -> None:
    for model in ("openai/gpt-oss-20b", "deepseek-ai/DeepSeek-V3.1", "Qwen/Qwen3-VL-30B-A3B-Instruct",
                  "Qwen/Qwen3.5-27B", "zai-org/GLM-5.3"):
        with pytest.raises(NotImplementedError, match="safetensors"):
            hp.get_full_finetune_param_count(model)


def test_suffix_is_stripped() -> None:
    assert base_model_name("zai-org/GLM-5.3:peft:262144") == "zai-org/GLM-5.3"
    assert load_vendor_config("zai-org/GLM-5.3:peft:262144").model_name == "zai-org/GLM-5.3"


def test_unknown_model_lists_known_models() -> None:
    with pytest.raises(UnknownModelError, match="Qwen/Qwen3-8B") as info:
        load_vendor_config("Qwen/Qwen4-8B")
    assert info.value.field == "model_name" and "Qwen/Qwen4-8B" in str(info.value)
    assert info.value.known == known_model_names()


def test_source_checkout_fallback() -> None:
    # In this checkout tinkerlite/vendor_configs does not exist, so the loader reads the top-level folder.
    root = vendor_configs_root()
    assert Path(str(root)).resolve() == REPO_CONFIGS.resolve()


def _good_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((REPO_CONFIGS / "Qwen--Qwen3-8B.json").read_text(encoding="utf-8"))
    return doc


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("_source"), "_source"),
        (lambda d: d.__setitem__("_source", "  "), "_source"),
        (lambda d: d.__setitem__("lr_formula", "mistral"), "lr_formula"),
        (lambda d: d["config"].__setitem__("architecture", "rwkv"), "config.architecture"),
        (lambda d: d["config"].__setitem__("hidden_size", "4096"), "hidden_size"),
        (lambda d: d["attributes"].__setitem__("recommended_renderers", []), "attributes.recommended_renderers"),
        (lambda d: d["attributes"].pop("is_vl"), "is_vl"),
        (lambda d: d.__setitem__("lora_params_per_rank", {"mlp": 1, "attn": 2}), "unembed"),
        (lambda d: d.__setitem__("local", "no"), "local"),
    ],
)
def test_malformed_configs_name_file_and_field(mutate: object, field: str) -> None:
    doc = _good_doc()
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(ValidationError) as info:
        parse_vendor_config(doc, "broken.json")
    assert "broken.json" in str(info.value)
    assert info.value.field == field


def test_missing_integer_field_is_reported_with_file() -> None:
    doc = _good_doc()
    doc["config"].pop("num_key_value_heads")
    vc = parse_vendor_config(doc, "partial.json")
    with pytest.raises(ValidationError, match=r"partial\.json") as info:
        vc.int_field("num_key_value_heads")
    assert info.value.field == "config.num_key_value_heads"
