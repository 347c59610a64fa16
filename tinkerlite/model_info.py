"""Model metadata (organisation, size, chat or base, recommended renderers) read from vendor configs.

Mirrors ``tinker_cookbook.model_info`` (0.6.1): the same ``ModelAttributes`` fields, the per-organisation
``get_*_info`` tables and the lookup helpers. The tables are built from ``vendor_configs/*.json`` rather
than written in code, so a new model needs one JSON file. ``tinkerlite/tiny-chat`` (the local server's
built-in model) is listed too, under ``get_tinkerlite_info``.

Unknown ids raise :class:`~tinkerlite.vendor_configs_loader.UnknownModelError`, which is both a
``ValueError`` (the cookbook's ``ConfigurationError`` for an unknown organisation) and a ``KeyError`` (the
cookbook's error for an unknown model of a known organisation), and lists the known models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

from .errors import ValidationError
from .vendor_configs_loader import UnknownModelError, VendorConfig, base_model_name, load_all

__all__ = [
    "ModelAttributes",
    "UnknownModelError",
    "get_deepseek_info",
    "get_gpt_oss_info",
    "get_llama_info",
    "get_model_attributes",
    "get_moonshot_info",
    "get_nvidia_info",
    "get_qwen_info",
    "get_recommended_renderer_name",
    "get_recommended_renderer_names",
    "get_thinkingmachines_info",
    "get_tinkerlite_info",
    "get_zai_info",
    "warn_if_renderer_not_recommended",
]

logger = logging.getLogger(__name__)

_INKLING_PREFIX = "thinkingmachines/Inkling"
_INKLING_RENDERERS = ("tml_v0",)


@dataclass(frozen=True)
class ModelAttributes:
    """Metadata that lets training code pick defaults for a model.

    ``recommended_renderers`` is ordered by preference: the first entry is the default renderer.
    """

    organization: str
    version_str: str
    size_str: str
    is_chat: bool
    recommended_renderers: tuple[str, ...]
    is_vl: bool = False
    is_audio_in: bool = False


def _attributes(vc: VendorConfig) -> ModelAttributes:
    a = vc.attributes
    return ModelAttributes(
        organization=str(a["organization"]),
        version_str=str(a["version_str"]),
        size_str=str(a["size_str"]),
        is_chat=bool(a["is_chat"]),
        recommended_renderers=tuple(str(r) for r in a["recommended_renderers"]),
        is_vl=bool(a["is_vl"]),
        is_audio_in=bool(a["is_audio_in"]),
    )


@cache
def _by_organization() -> dict[str, dict[str, ModelAttributes]]:
    table: dict[str, dict[str, ModelAttributes]] = {}
    for name, vc in load_all().items():
        org, version = name.split("/", 1)
        table.setdefault(org, {})[version] = _attributes(vc)
    return table


def _org_table(org: str) -> dict[str, ModelAttributes]:
    """A fresh copy, so a caller mutating it cannot corrupt the shared table."""
    return dict(_by_organization().get(org, {}))


def get_llama_info() -> dict[str, ModelAttributes]:
    """Meta Llama models, keyed by the name after ``meta-llama/``."""
    return _org_table("meta-llama")


def get_qwen_info() -> dict[str, ModelAttributes]:
    """Qwen3, Qwen3-VL and Qwen3.5/3.6/3.8 models, keyed by the name after ``Qwen/``."""
    return _org_table("Qwen")


def get_deepseek_info() -> dict[str, ModelAttributes]:
    return _org_table("deepseek-ai")


def get_gpt_oss_info() -> dict[str, ModelAttributes]:
    return _org_table("openai")


def get_moonshot_info() -> dict[str, ModelAttributes]:
    return _org_table("moonshotai")


def get_zai_info() -> dict[str, ModelAttributes]:
    return _org_table("zai-org")


def get_nvidia_info() -> dict[str, ModelAttributes]:
    return _org_table("nvidia")


def get_thinkingmachines_info() -> dict[str, ModelAttributes]:
    return _org_table("thinkingmachines")


def get_tinkerlite_info() -> dict[str, ModelAttributes]:
    """tinkerlite's own local models (not served by Tinker)."""
    return _org_table("tinkerlite")


def get_model_attributes(model_name: str) -> ModelAttributes:
    """Metadata for ``"org/model"`` (an optional ``:suffix`` is ignored).

    Any ``thinkingmachines/Inkling*`` id without its own entry gets Inkling defaults, as in the cookbook.
    """
    name = base_model_name(model_name)
    if "/" not in name:
        raise ValidationError(f"Model name must be in 'org/model' format, got {name!r}", field="model_name")
    org, version = name.split("/", 1)
    found = _by_organization().get(org, {}).get(version)
    if found is not None:
        return found
    if name.startswith(_INKLING_PREFIX):
        return ModelAttributes(
            organization=org,
            version_str=version,
            size_str=version,
            is_chat=True,
            recommended_renderers=_INKLING_RENDERERS,
            is_vl=True,
            is_audio_in=True,
        )
    raise UnknownModelError(model_name, tuple(sorted(load_all())))


def get_recommended_renderer_names(model_name: str) -> list[str]:
    """Renderers designed for the model, most recommended first."""
    return list(get_model_attributes(model_name).recommended_renderers)


def get_recommended_renderer_name(model_name: str) -> str:
    """The most recommended renderer for the model."""
    return get_recommended_renderer_names(model_name)[0]


def warn_if_renderer_not_recommended(model_name: str, renderer_name: str | None) -> None:
    """Log a warning when ``renderer_name`` is not designed for ``model_name``.

    A wrong renderer silently degrades training (the model is prefilled with tokens it never saw), so this
    is worth a log line; unknown models and ``renderer_name=None`` are skipped quietly.
    """
    if renderer_name is None:
        return
    try:
        recommended = get_recommended_renderer_names(model_name)
    except (KeyError, ValueError):
        return
    if renderer_name not in recommended:
        logger.warning(
            "Renderer %r is not recommended for model %r. Recommended renderer(s): %s. "
            "Using an incompatible renderer can silently degrade training quality "
            "(e.g., prefilling tokens the model was never trained on).",
            renderer_name,
            model_name,
            ", ".join(repr(r) for r in recommended),
        )
