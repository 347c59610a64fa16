"""Regenerate tests/golden/hyperparam_goldens.json by running the OFFICIAL cookbook functions.

Run it with a throwaway venv holding the official package (never a dependency of tinkerlite):

    python -m venv /tmp/venv-cookbook-hp
    /tmp/venv-cookbook-hp/bin/pip install --no-deps tinker-cookbook==0.6.1
    /tmp/venv-cookbook-hp/bin/pip install transformers huggingface_hub numpy   # what hyperparam_utils imports
    /tmp/venv-cookbook-hp/bin/python tests/golden/make_hyperparam_goldens.py

The HF hub is unreachable, so ``transformers.AutoConfig.from_pretrained`` is monkeypatched to return our
vendor config values (the cookbook only falls back to it for ids missing from its hidden-size table, i.e.
``tinkerlite/tiny-chat``); any other network access would fail loudly. The output records, for every model
in vendor_configs/ plus a few unknown ids: get_lr (LoRA and full), the hidden size the cookbook uses, LoRA
parameter counts for every train_* combination at several ranks, get_lora_lr_over_full_finetune_lr and the
model_info attributes, each as a value or as the exception the official code raised.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "hyperparam_goldens.json"
sys.path.insert(0, str(REPO))

import transformers  # noqa: E402
from tinker_cookbook import hyperparam_utils as hp  # noqa: E402
from tinker_cookbook import model_info as mi  # noqa: E402

from tinkerlite.vendor_configs_loader import load_all  # noqa: E402  (stdlib-only module)

AUTOCONFIG_CALLS: list[str] = []


def _fake_from_pretrained(name: str, *args: Any, **kwargs: Any) -> SimpleNamespace:
    """Stand-in for AutoConfig.from_pretrained: our vendor config, as attributes."""
    AUTOCONFIG_CALLS.append(name)
    configs = load_all()
    base = name.split(":", 1)[0]
    if base not in configs:
        raise OSError(f"offline golden run: no vendor config for {name!r} (the HF hub is unreachable)")
    fields = {k: v for k, v in configs[base].config.items() if v is not None}
    return SimpleNamespace(**fields)


transformers.AutoConfig.from_pretrained = _fake_from_pretrained
hp.AutoConfig.from_pretrained = _fake_from_pretrained  # the module imported the class object itself


def outcome(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return {"value": fn(*args, **kwargs)}
    except Exception as exc:  # record the official behaviour, whatever it is
        return {
            "error": type(exc).__name__,
            "is_value_error": isinstance(exc, ValueError),
            "is_key_error": isinstance(exc, KeyError),
            "is_not_implemented": isinstance(exc, NotImplementedError),
        }


def attributes(name: str) -> dict[str, Any]:
    res = outcome(mi.get_model_attributes, name)
    if "value" in res:
        a = res["value"]
        res["value"] = {
            "organization": a.organization,
            "version_str": a.version_str,
            "size_str": a.size_str,
            "is_chat": a.is_chat,
            "recommended_renderers": list(a.recommended_renderers),
            "is_vl": a.is_vl,
            "is_audio_in": a.is_audio_in,
        }
    return res


FLAGS = [f for f in itertools.product([True, False], repeat=3) if any(f)]
RANKS = [1, 8, 32, 128]


def model_record(name: str) -> dict[str, Any]:
    lora = {}
    for rank in RANKS:
        for mlp, attn, unembed in FLAGS:
            key = f"r{rank}-mlp{int(mlp)}-attn{int(attn)}-unembed{int(unembed)}"
            lora[key] = outcome(hp.get_lora_param_count, name, lora_rank=rank, train_mlp=mlp, train_attn=attn,
                                train_unembed=unembed)
    return {
        "get_lr_lora": outcome(hp.get_lr, name),
        "get_lr_full": outcome(hp.get_lr, name, is_lora=False),
        "hidden_size": outcome(hp._get_hidden_size, name),
        "lora_param_count": lora,
        "lora_param_count_default": outcome(hp.get_lora_param_count, name),
        "lora_lr_over_full_finetune_lr": outcome(hp.get_lora_lr_over_full_finetune_lr, name),
        "model_attributes": attributes(name),
        "recommended_renderer_names": outcome(mi.get_recommended_renderer_names, name),
    }


def main() -> None:
    names = sorted(load_all())
    extra = [
        "Qwen/Qwen3-8B:peft:262144",  # Tinker variant suffix
        "meta-llama/Llama-3.1-8B:checkpoint",
        "thinkingmachines/Inkling-Future",  # Inkling fallback in model_info
        "meta-llama/Llama-9-1B",  # unknown model of a known organisation
        "acme/unknown-model",  # unknown organisation
    ]
    models = {name: model_record(name) for name in names}
    unknown = {
        name: {
            "model_attributes": attributes(name),
            "lora_param_count_default": outcome(hp.get_lora_param_count, name),
        }
        for name in extra
    }
    for name in extra[:2]:
        unknown[name] = model_record(name)
    doc = {
        "_generator": "tests/golden/make_hyperparam_goldens.py",
        "_official": f"tinker-cookbook=={importlib.metadata.version('tinker-cookbook')}",
        "_autoconfig_patched_calls": sorted(set(AUTOCONFIG_CALLS)),
        "no_flags_error": outcome(hp.get_lora_param_count, "Qwen/Qwen3-8B", train_mlp=False, train_attn=False,
                                  train_unembed=False),
        "models": models,
        "other_ids": unknown,
    }
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({len(models)} models; AutoConfig patched for {doc['_autoconfig_patched_calls']})")


if __name__ == "__main__":
    main()
