"""Hard-coded model configs (``vendor_configs/*.json``) that stand in for ``transformers.AutoConfig``.

The cookbook asks the HuggingFace hub for ``config.json`` to learn hidden sizes and the like; tinkerlite
cannot reach the hub and must not depend on ``transformers``, so the few numbers it needs ship with the
package. In a wheel they live in ``tinkerlite/vendor_configs`` (hatch force-include); in a source
checkout they are read from the top-level ``vendor_configs/`` folder next to the package.

Each file describes one model id: ``model_name``, ``local``, ``_source`` (where the numbers come from),
``attributes`` (model_info's metadata), ``lr_formula``, ``config`` (architecture fields) and, where the
LoRA parameter count cannot be derived from ``config``, Tinker's measured ``lora_params_per_rank``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # pragma: no cover - Python 3.10
    from importlib.abc import Traversable

from .errors import ValidationError

__all__ = [
    "ARCHITECTURES",
    "LR_FORMULAS",
    "UnknownModelError",
    "VendorConfig",
    "base_model_name",
    "known_model_names",
    "load_all",
    "load_vendor_config",
    "vendor_configs_root",
]

LR_FORMULAS = ("llama", "qwen", "uncalibrated")
ARCHITECTURES = (
    "llama",
    "qwen3",
    "qwen3_moe",
    "qwen3_5",
    "qwen3_5_moe",
    "deepseek_v3",
    "gpt_oss",
    "nemotron_h",
    "tinkerlite_tiny",
    "unpublished",
)
_ATTRIBUTE_TYPES: dict[str, type] = {
    "organization": str,
    "version_str": str,
    "size_str": str,
    "is_chat": bool,
    "recommended_renderers": list,
    "is_vl": bool,
    "is_audio_in": bool,
}
_LORA_COMPONENTS = ("mlp", "attn", "unembed")


class UnknownModelError(ValidationError, KeyError):
    """A model id with no vendor config.

    It is both a ``ValueError`` (the cookbook raises ``ConfigurationError``, a ValueError, for an unknown
    organisation) and a ``KeyError`` (the cookbook raises ``KeyError`` for an unknown model of a known
    organisation), so callers written against either behaviour keep working.
    """

    def __init__(self, model_name: str, known: tuple[str, ...]) -> None:
        self.model_name = model_name
        self.known = known
        super().__init__(
            f"unknown model {model_name!r}; tinkerlite has vendor configs for: {', '.join(known)}",
            field="model_name",
        )

    def __str__(self) -> str:  # KeyError.__str__ would repr() the message
        return str(self.args[0])


@dataclass(frozen=True)
class VendorConfig:
    """One parsed ``vendor_configs/*.json`` file."""

    model_name: str
    local: bool
    source: str
    attributes: Mapping[str, Any]
    lr_formula: str | None
    config: Mapping[str, Any]
    lora_params_per_rank: Mapping[str, int] | None
    path: str

    @property
    def architecture(self) -> str:
        return str(self.config["architecture"])

    @property
    def hidden_size(self) -> int:
        return self.int_field("hidden_size")

    @property
    def vocab_size(self) -> int:
        """``config.vocab_size``; for an unpublished config, Tinker's unembedding LoRA count per rank minus
        ``hidden_size`` (an unembedding adapter has ``hidden + vocab`` parameters per rank: the rule gives every
        published vocabulary exactly)."""
        published = self.config.get("vocab_size")
        if isinstance(published, int) and not isinstance(published, bool) and published > 0:
            return published
        if self.lora_params_per_rank is None:
            raise ValidationError(f"{self.path}: neither config.vocab_size nor lora_params_per_rank.unembed is given",
                                  field="config.vocab_size")
        return self.lora_params_per_rank["unembed"] - self.hidden_size

    def int_field(self, name: str, default: int | None = None) -> int:
        """A required integer architecture field; a clear error names the file when it is missing."""
        value = self.config.get(name)
        if value is None:
            if default is not None:
                return default
            raise ValidationError(f"{self.path}: config has no {name!r} (architecture {self.architecture})",
                                  field=f"config.{name}")
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationError(f"{self.path}: expected an integer, got {value!r}", field=f"config.{name}")
        return value


def base_model_name(model_name: str) -> str:
    """Strip Tinker's variant suffix (``"org/model:peft:262144"`` -> ``"org/model"``)."""
    return model_name.split(":", 1)[0]


def vendor_configs_root() -> Traversable:
    """The folder holding the JSON files: packaged copy when installed, repo folder in a checkout."""
    try:
        packaged = resources.files("tinkerlite.vendor_configs")
    except ModuleNotFoundError:
        packaged = None
    if packaged is not None and packaged.is_dir() and any(_json_entries(packaged)):
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "vendor_configs"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        "tinkerlite vendor configs not found: neither the packaged tinkerlite/vendor_configs nor the "
        f"source-checkout folder {checkout} exists"
    )


def _json_entries(root: Traversable) -> Iterator[Traversable]:
    return (entry for entry in root.iterdir() if entry.name.endswith(".json") and entry.is_file())


def _require(doc: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in doc:
        raise ValidationError(f"{where}: missing key", field=key)
    value = doc[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValidationError(f"{where}: expected {kind.__name__}, got {type(value).__name__}", field=key)
    return value


def parse_vendor_config(doc: Any, where: str) -> VendorConfig:
    """Validate one decoded JSON document; ``where`` (the file name) goes into every error message."""
    if not isinstance(doc, dict):
        raise ValidationError(f"{where}: top level must be a JSON object")
    name = _require(doc, "model_name", str, where)
    local = _require(doc, "local", bool, where)
    source = _require(doc, "_source", str, where)
    if not source.strip():
        raise ValidationError(f"{where}: every vendor config must say where its numbers come from", field="_source")
    attributes = _require(doc, "attributes", dict, where)
    for key, kind in _ATTRIBUTE_TYPES.items():
        _require(attributes, key, kind, f"{where} attributes")
    renderers = attributes["recommended_renderers"]
    if not renderers or not all(isinstance(r, str) for r in renderers):
        raise ValidationError(f"{where}: needs at least one renderer name", field="attributes.recommended_renderers")
    lr_formula = doc.get("lr_formula")
    if lr_formula is not None and lr_formula not in LR_FORMULAS:
        raise ValidationError(f"{where}: {lr_formula!r} is not one of {LR_FORMULAS}", field="lr_formula")
    config = _require(doc, "config", dict, where)
    if config.get("architecture") not in ARCHITECTURES:
        raise ValidationError(f"{where}: unknown architecture {config.get('architecture')!r}",
                              field="config.architecture")
    _require(config, "hidden_size", int, f"{where} config")
    lora = doc.get("lora_params_per_rank")
    lora_counts: dict[str, int] | None = None
    if lora is not None:
        if not isinstance(lora, dict):
            raise ValidationError(f"{where}: must be an object", field="lora_params_per_rank")
        lora_counts = {key: _require(lora, key, int, f"{where} lora_params_per_rank") for key in _LORA_COMPONENTS}
    return VendorConfig(
        model_name=name,
        local=local,
        source=source,
        attributes=attributes,
        lr_formula=lr_formula,
        config=config,
        lora_params_per_rank=lora_counts,
        path=where,
    )


@cache
def load_all() -> dict[str, VendorConfig]:
    """Every vendor config, keyed by model name (read once per process)."""
    out: dict[str, VendorConfig] = {}
    for entry in sorted(_json_entries(vendor_configs_root()), key=lambda e: e.name):
        try:
            doc = json.loads(entry.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{entry.name}: not valid JSON (line {exc.lineno}): {exc.msg}") from exc
        vc = parse_vendor_config(doc, entry.name)
        if vc.model_name in out:
            raise ValidationError(f"{entry.name}: duplicate model_name {vc.model_name!r} "
                                  f"(also in {out[vc.model_name].path})", field="model_name")
        out[vc.model_name] = vc
    return out


def known_model_names() -> tuple[str, ...]:
    return tuple(sorted(load_all()))


def load_vendor_config(model_name: str) -> VendorConfig:
    """The vendor config for ``model_name`` (a ``:suffix`` is ignored); unknown ids raise UnknownModelError."""
    configs = load_all()
    found = configs.get(base_model_name(model_name))
    if found is None:
        raise UnknownModelError(model_name, tuple(sorted(configs)))
    return found
