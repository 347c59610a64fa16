"""``kimi_k31_pro_*``: Kimi K3.1-Pro, which the cookbook backs with tml-renderers' ``KimiK31Pro`` renderer.

Not available in tinkerlite, and not faked: the cookbook's renderer delegates the whole format to
``tml_renderers.renderers.KimiK31Pro`` with ``tml_renderers.tokenizers.KimiK3Tokenizer``, both compiled into
``tml-renderers>=0.4.1`` (the version tinker-cookbook 0.6.1 pins). That release is not on PyPI: the registry
has 0.0.1, 0.1.0, 0.2.0 and 0.2.1, and 0.2.1 has neither class (its renderers stop at Kimi K2.5, its
tokenizers at Kimi K2.6), and no public file describes the K3 tokenizer or the K3.1-Pro chat format. So
building the renderer raises :class:`KimiK31ProUnavailableError` (a ``RendererError`` and a
``ModuleNotFoundError``) saying exactly that, where the cookbook without the wheel fails with a bare
``ModuleNotFoundError``. The names and signatures are the cookbook's.
"""

from __future__ import annotations

from typing import Any, Literal

from tinkerlite.renderers.errors import RendererError
from tinkerlite.renderers.tml_renderers_adapter import TmlRenderersRenderer
from tinkerlite.tokenizer_utils import TmlTokenizer, Tokenizer

__all__ = ["KimiK31ProReasoningEffort", "KimiK31ProRenderer", "KimiK31ProUnavailableError"]

KimiK31ProReasoningEffort = Literal["low", "high", "max"]


class KimiK31ProUnavailableError(RendererError, ModuleNotFoundError):
    """Kimi K3.1-Pro needs tml-renderers>=0.4.1 (KimiK31Pro, KimiK3Tokenizer), which is not on PyPI."""


def unavailable_reason() -> str:
    """Why the renderer cannot be built here, checked against whatever tml_renderers is installed."""
    import importlib
    import importlib.util

    base = (
        "Kimi K3.1-Pro (kimi_k31_pro_*) is rendered by tml_renderers.renderers.KimiK31Pro with "
        "tml_renderers.tokenizers.KimiK3Tokenizer, from tml-renderers>=0.4.1 (pinned by tinker-cookbook 0.6.1). "
        "That release is not on PyPI (the newest there, 0.2.1, has neither class), and no public file describes "
        "the Kimi K3 tokenizer or the K3.1-Pro format, so tinkerlite has no implementation of its own. "
    )
    if importlib.util.find_spec("tml_renderers") is None:
        return base + "tml_renderers is not installed."
    renderers = importlib.import_module("tml_renderers.renderers")
    tokenizers = importlib.import_module("tml_renderers.tokenizers")
    if not hasattr(renderers, "KimiK31Pro") or not hasattr(tokenizers, "KimiK3Tokenizer"):
        return base + "The installed tml_renderers lacks them."
    return base + "tinkerlite does not bridge to the installed wheel's native KimiK31Pro renderer."


class KimiK31ProRenderer(TmlRenderersRenderer):
    """Renderer adapter for Kimi K3.1-Pro (raises :class:`KimiK31ProUnavailableError`: see the module)."""

    renderer_name = "kimi_k31_pro"

    def __init__(
        self,
        tokenizer: Tokenizer,
        reasoning_effort: KimiK31ProReasoningEffort | None = "max",
        support_thinking: bool = True,
    ):
        self.reasoning_effort: KimiK31ProReasoningEffort | None = reasoning_effort
        self.support_thinking = support_thinking
        raise KimiK31ProUnavailableError(unavailable_reason(), field="renderer_name")

    def _build_tml_renderer(self, tml_tokenizer: TmlTokenizer) -> Any:
        raise KimiK31ProUnavailableError(unavailable_reason(), field="renderer_name")

    def _parse_error_types(self) -> tuple[type[Exception], ...]:
        return (ValueError,)

    def _response_stopped(self, response: list[int], saw_end: bool) -> bool:
        # As the cookbook: the K3.1-Pro parser also closes a cut-off response, so only a sampled stop token counts.
        return saw_end and any(token in response for token in self.get_stop_sequences())
