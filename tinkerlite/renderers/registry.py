"""Renderer names -> classes, plus a registry for user-defined renderers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinkerlite.renderers.base import Renderer, RendererError

RendererFactory = Callable[[Any, Any], Renderer]
"""``factory(tokenizer, image_processor) -> Renderer`` (image_processor is None for text models)."""

_CUSTOM_RENDERER_REGISTRY: dict[str, RendererFactory] = {}

BUILTIN_RENDERER_NAMES = (
    "role_colon",
    "llama3",
    "qwen3",
    "qwen3_disable_thinking",
    "qwen3_instruct",
    "deepseekv3",
    "deepseekv3_disable_thinking",
    "deepseekv3_thinking",
    "gpt_oss_no_sysprompt",
    "gpt_oss_low_reasoning",
    "gpt_oss_medium_reasoning",
    "gpt_oss_high_reasoning",
    "kimi_k2",
)


def register_renderer(name: str, factory: RendererFactory) -> None:
    """Make ``get_renderer(name, ...)`` call ``factory(tokenizer, image_processor)``; namespace your names."""
    _CUSTOM_RENDERER_REGISTRY[name] = factory


def unregister_renderer(name: str) -> bool:
    return _CUSTOM_RENDERER_REGISTRY.pop(name, None) is not None


def is_renderer_registered(name: str) -> bool:
    return name in _CUSTOM_RENDERER_REGISTRY


def get_registered_renderer_names() -> list[str]:
    """Names registered with :func:`register_renderer` (built-ins not included)."""
    return list(_CUSTOM_RENDERER_REGISTRY)


def _builtin(name: str, tokenizer: Any, current_date: str | None) -> Renderer | None:
    # Imported here so importing the registry stays cheap and cycle-free.
    from tinkerlite.renderers.deepseek_v3 import DeepSeekV3DisableThinkingRenderer, DeepSeekV3ThinkingRenderer
    from tinkerlite.renderers.gpt_oss import GptOssRenderer
    from tinkerlite.renderers.kimi_k2 import KimiK2Renderer
    from tinkerlite.renderers.llama3 import Llama3Renderer
    from tinkerlite.renderers.qwen3 import Qwen3DisableThinkingRenderer, Qwen3InstructRenderer, Qwen3Renderer
    from tinkerlite.renderers.role_colon import RoleColonRenderer

    simple: dict[str, Callable[[Any], Renderer]] = {
        "role_colon": RoleColonRenderer,
        "llama3": Llama3Renderer,
        "qwen3": Qwen3Renderer,
        "qwen3_disable_thinking": Qwen3DisableThinkingRenderer,
        "qwen3_instruct": Qwen3InstructRenderer,
        "deepseekv3": DeepSeekV3DisableThinkingRenderer,
        "deepseekv3_disable_thinking": DeepSeekV3DisableThinkingRenderer,
        "deepseekv3_thinking": DeepSeekV3ThinkingRenderer,
        "kimi_k2": KimiK2Renderer,
    }
    if name in simple:
        return simple[name](tokenizer)
    if name == "gpt_oss_no_sysprompt":
        return GptOssRenderer(tokenizer, use_system_prompt=False, current_date=current_date)
    for effort in ("low", "medium", "high"):
        if name == f"gpt_oss_{effort}_reasoning":
            return GptOssRenderer(tokenizer, use_system_prompt=True, reasoning_effort=effort, current_date=current_date)
    return None


def get_renderer(
    name: str,
    tokenizer: Any,
    image_processor: Any = None,
    model_name: str | None = None,
    *,
    current_date: str | None = None,
) -> Renderer:
    """Build a renderer by name (built-in or registered).

    ``current_date`` (``YYYY-MM-DD``) fixes the date in gpt-oss system prompts, which otherwise use
    today's date and so change from day to day.
    """
    factory = _CUSTOM_RENDERER_REGISTRY.get(name)
    renderer = factory(tokenizer, image_processor) if factory is not None else _builtin(name, tokenizer, current_date)
    if renderer is None:
        raise RendererError(
            f"Unknown renderer: {name!r}. Built-in: {', '.join(BUILTIN_RENDERER_NAMES)}. "
            "Register custom renderers with register_renderer().",
            field="renderer_name",
        )
    renderer._renderer_name = name
    renderer._model_name = model_name if model_name is not None else getattr(tokenizer, "name_or_path", None)
    return renderer


def _unpickle_renderer(renderer_name: str, model_name: str, current_date: str | None = None) -> Renderer:
    """Rebuild a pickled renderer from its name and its tokenizer's name (loaded again, from cache)."""
    from tinkerlite.tokenizers import get_tokenizer

    return get_renderer(renderer_name, get_tokenizer(model_name), model_name=model_name, current_date=current_date)
