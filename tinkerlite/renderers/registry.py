"""Renderer names -> classes (``get_renderer``), plus a registry for user-defined renderers.

``get_renderer`` keeps the cookbook's exact signature; ``make_renderer(..., strict=True)`` (or
``TINKERLITE_RENDERER_STRICT=1`` in the environment, or ``renderer.strict = True``) makes the renderer raise
:class:`RendererError` where the cookbook silently drops data (see ``tinkerlite.renderers``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tinkerlite.renderers import base
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
    "qwen3_vl",
    "qwen3_vl_instruct",
    "qwen3_5",
    "qwen3_5_disable_thinking",
    "qwen3_5_preserve_thinking",
    "qwen3_8_xhigh_reasoning",
    "qwen3_8_medium_reasoning",
    "qwen3_8_low_reasoning",
    "qwen3_8_disable_thinking",
    "deepseekv3",
    "deepseekv3_disable_thinking",
    "deepseekv3_thinking",
    "deepseekv4_1",
    "deepseekv4_1_low_reasoning",
    "deepseekv4_1_max_reasoning",
    "deepseekv4_1_disable_thinking",
    "deepseekv4_1_preserve_thinking",
    "glm5_3_max_reasoning",
    "glm5_3_low_reasoning",
    "glm5_3_high_reasoning",
    "gpt_oss_no_sysprompt",
    "gpt_oss_low_reasoning",
    "gpt_oss_medium_reasoning",
    "gpt_oss_high_reasoning",
    "kimi_k2",
    "kimi_k25",
    "kimi_k25_disable_thinking",
    "kimi_k26",
    "kimi_k26_disable_thinking",
    "kimi_k26_preserve_thinking",
    "nemotron3",
    "nemotron3_low_thinking",
    "nemotron3_disable_thinking",
    "nemotron3_preserve_thinking",
    "nemotron3_ultra",
    "nemotron3_ultra_disable_thinking",
    "nemotron3_ultra_medium_thinking",
    "nemotron3_ultra_preserve_thinking",
)
"""Names ``get_renderer`` builds from an ordinary tokenizer. It also knows the cookbook's tml_renderers
adapters: ``tml_v0`` (needs the TML tokenizer adapter of ``tokenizer_utils.get_tokenizer("thinkingmachines/
Inkling")``) and ``kimi_k31_pro_*`` (raise ``KimiK31ProUnavailableError``: tml-renderers>=0.4.1 is not on PyPI)."""


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


def get_renderer(name: str, tokenizer: Any, image_processor: Any = None, model_name: str | None = None) -> Renderer:
    """Build a renderer by name (built-in or registered); the cookbook's signature exactly.

    Options the cookbook does not have are attributes of the renderer, or :func:`make_renderer`'s
    keywords: ``strict`` (raise where the cookbook drops data; default from ``TINKERLITE_RENDERER_STRICT``)
    and gpt-oss's ``current_date``.
    """
    factory = _CUSTOM_RENDERER_REGISTRY.get(name)
    if factory is not None:
        renderer = factory(tokenizer, image_processor)
    else:
        # Imported here so importing the registry stays cheap.
        from tinkerlite.renderers.deepseek_v3 import DeepSeekV3DisableThinkingRenderer, DeepSeekV3ThinkingRenderer
        from tinkerlite.renderers.deepseek_v4_1 import (
            DeepSeekV4_1DisableThinkingRenderer,
            DeepSeekV4_1LowReasoningRenderer,
            DeepSeekV4_1MaxReasoningRenderer,
            DeepSeekV4_1Renderer,
        )
        from tinkerlite.renderers.glm5_3 import Glm5_3HighReasoningRenderer, Glm5_3LowReasoningRenderer, Glm5_3Renderer
        from tinkerlite.renderers.gpt_oss import GptOssRenderer
        from tinkerlite.renderers.kimi_k2 import KimiK2Renderer
        from tinkerlite.renderers.kimi_k25 import KimiK25DisableThinkingRenderer, KimiK25Renderer
        from tinkerlite.renderers.kimi_k26 import KimiK26PreserveThinkingRenderer
        from tinkerlite.renderers.llama3 import Llama3Renderer
        from tinkerlite.renderers.nemotron3 import (
            Nemotron3DisableThinkingRenderer,
            Nemotron3LowThinkingRenderer,
            Nemotron3PreserveThinkingRenderer,
            Nemotron3Renderer,
            Nemotron3UltraDisableThinkingRenderer,
            Nemotron3UltraMediumThinkingRenderer,
            Nemotron3UltraPreserveThinkingRenderer,
            Nemotron3UltraRenderer,
        )
        from tinkerlite.renderers.qwen3 import (
            Qwen3DisableThinkingRenderer,
            Qwen3InstructRenderer,
            Qwen3Renderer,
            Qwen3VLInstructRenderer,
            Qwen3VLRenderer,
        )
        from tinkerlite.renderers.qwen3_5 import Qwen3_5DisableThinkingRenderer, Qwen3_5Renderer
        from tinkerlite.renderers.qwen3_8 import Qwen3_8DisableThinkingRenderer, Qwen3_8Renderer
        from tinkerlite.renderers.role_colon import RoleColonRenderer

        tok, ip = tokenizer, image_processor
        builders: dict[str, Callable[[], Renderer]] = {
            "role_colon": lambda: RoleColonRenderer(tok),
            "llama3": lambda: Llama3Renderer(tok),
            "qwen3": lambda: Qwen3Renderer(tok),
            "qwen3_vl": lambda: Qwen3VLRenderer(tok, ip),
            "qwen3_vl_instruct": lambda: Qwen3VLInstructRenderer(tok, ip),
            "qwen3_disable_thinking": lambda: Qwen3DisableThinkingRenderer(tok),
            "qwen3_instruct": lambda: Qwen3InstructRenderer(tok),
            "qwen3_5": lambda: Qwen3_5Renderer(tok, image_processor=ip),
            "qwen3_5_disable_thinking": lambda: Qwen3_5DisableThinkingRenderer(tok, image_processor=ip),
            "qwen3_5_preserve_thinking": lambda: Qwen3_5Renderer(
                tok, image_processor=ip, strip_thinking_from_history=False
            ),
            "qwen3_8_xhigh_reasoning": lambda: Qwen3_8Renderer(tok, image_processor=ip),
            "qwen3_8_medium_reasoning": lambda: Qwen3_8Renderer(tok, image_processor=ip, reasoning_effort="medium"),
            "qwen3_8_low_reasoning": lambda: Qwen3_8Renderer(tok, image_processor=ip, reasoning_effort="low"),
            "qwen3_8_disable_thinking": lambda: Qwen3_8DisableThinkingRenderer(tok, image_processor=ip),
            # deepseekv3 is the non-thinking renderer (the HF template's default).
            "deepseekv3": lambda: DeepSeekV3DisableThinkingRenderer(tok),
            "deepseekv3_disable_thinking": lambda: DeepSeekV3DisableThinkingRenderer(tok),
            "deepseekv3_thinking": lambda: DeepSeekV3ThinkingRenderer(tok),
            "deepseekv4_1": lambda: DeepSeekV4_1Renderer(tok),
            "deepseekv4_1_low_reasoning": lambda: DeepSeekV4_1LowReasoningRenderer(tok),
            "deepseekv4_1_max_reasoning": lambda: DeepSeekV4_1MaxReasoningRenderer(tok),
            "deepseekv4_1_disable_thinking": lambda: DeepSeekV4_1DisableThinkingRenderer(tok),
            "deepseekv4_1_preserve_thinking": lambda: DeepSeekV4_1Renderer(tok, strip_thinking_from_history=False),
            "glm5_3_max_reasoning": lambda: Glm5_3Renderer(tok),
            "glm5_3_low_reasoning": lambda: Glm5_3LowReasoningRenderer(tok),
            "glm5_3_high_reasoning": lambda: Glm5_3HighReasoningRenderer(tok),
            "kimi_k2": lambda: KimiK2Renderer(tok),
            "kimi_k25": lambda: KimiK25Renderer(tok, image_processor=ip),
            "kimi_k25_disable_thinking": lambda: KimiK25DisableThinkingRenderer(tok, image_processor=ip),
            # K2.6 renders the same tokens as K2.5 except with preserved thinking.
            "kimi_k26": lambda: KimiK25Renderer(tok, image_processor=ip),
            "kimi_k26_disable_thinking": lambda: KimiK25DisableThinkingRenderer(tok, image_processor=ip),
            "kimi_k26_preserve_thinking": lambda: KimiK26PreserveThinkingRenderer(tok, image_processor=ip),
            "nemotron3": lambda: Nemotron3Renderer(tok),
            "nemotron3_low_thinking": lambda: Nemotron3LowThinkingRenderer(tok),
            "nemotron3_disable_thinking": lambda: Nemotron3DisableThinkingRenderer(tok),
            "nemotron3_preserve_thinking": lambda: Nemotron3PreserveThinkingRenderer(tok),
            "nemotron3_ultra": lambda: Nemotron3UltraRenderer(tok, image_processor=ip),
            "nemotron3_ultra_disable_thinking": lambda: Nemotron3UltraDisableThinkingRenderer(tok, image_processor=ip),
            "nemotron3_ultra_medium_thinking": lambda: Nemotron3UltraMediumThinkingRenderer(tok, image_processor=ip),
            "nemotron3_ultra_preserve_thinking": lambda: Nemotron3UltraPreserveThinkingRenderer(
                tok, image_processor=ip
            ),
            "gpt_oss_no_sysprompt": lambda: GptOssRenderer(tok, use_system_prompt=False),
            "gpt_oss_low_reasoning": lambda: GptOssRenderer(tok, use_system_prompt=True, reasoning_effort="low"),
            "gpt_oss_medium_reasoning": lambda: GptOssRenderer(tok, use_system_prompt=True, reasoning_effort="medium"),
            "gpt_oss_high_reasoning": lambda: GptOssRenderer(tok, use_system_prompt=True, reasoning_effort="high"),
        }
        # Adapters over tml_renderers: tml_v0 is tinkerlite's own (it needs the TML tokenizer adapter,
        # tokenizer_utils.get_tokenizer("thinkingmachines/Inkling")); Kimi K3.1-Pro raises, saying why.
        from tinkerlite.renderers.kimi_k31_pro import KimiK31ProRenderer
        from tinkerlite.renderers.tml_v0 import TmlV0Renderer

        builders["tml_v0"] = lambda: TmlV0Renderer(tok)
        builders["kimi_k31_pro_max_reasoning"] = lambda: KimiK31ProRenderer(tok, reasoning_effort="max")
        builders["kimi_k31_pro_high_reasoning"] = lambda: KimiK31ProRenderer(tok, reasoning_effort="high")
        builders["kimi_k31_pro_low_reasoning"] = lambda: KimiK31ProRenderer(tok, reasoning_effort="low")
        builders["kimi_k31_pro_disable_thinking"] = lambda: KimiK31ProRenderer(tok, support_thinking=False)
        builders["kimi_k31_pro_no_reasoning_effort"] = lambda: KimiK31ProRenderer(tok, reasoning_effort=None)
        build = builders.get(name)
        if build is None:
            raise RendererError(
                f"Unknown renderer: {name!r}. Built-in: {', '.join(BUILTIN_RENDERER_NAMES)}. "
                "Register custom renderers with register_renderer().",
                field="renderer_name",
            )
        renderer = build()
    renderer._renderer_name = name
    renderer._model_name = model_name if model_name is not None else getattr(tokenizer, "name_or_path", None)
    renderer._has_image_processor = image_processor is not None
    return renderer


def make_renderer(
    name: str,
    tokenizer: Any,
    image_processor: Any = None,
    model_name: str | None = None,
    *,
    strict: bool | None = None,
    current_date: str | None = None,
) -> Renderer:
    """:func:`get_renderer` plus tinkerlite's options.

    ``strict=True`` raises :class:`RendererError` where the cookbook silently drops data (None: the
    ``TINKERLITE_RENDERER_STRICT`` environment variable). ``current_date`` (``YYYY-MM-DD``) fixes the date
    in gpt-oss system prompts, which otherwise use today's date (other renderers have no date).
    """
    renderer = get_renderer(name, tokenizer, image_processor, model_name)
    if strict is not None:
        renderer.strict = strict
    if current_date is not None and hasattr(renderer, "current_date"):
        renderer.current_date = current_date
    return renderer


def _unpickle_renderer(
    renderer_name: str, model_name: str, current_date: str | None = None, strict: bool | None = None
) -> Renderer:
    """Rebuild a pickled renderer from its name and its tokenizer's name (loaded again, from cache)."""
    from tinkerlite.tokenizers import get_tokenizer

    return make_renderer(
        renderer_name, get_tokenizer(model_name), model_name=model_name, current_date=current_date, strict=strict
    )


base._UNPICKLE_RENDERER = _unpickle_renderer
