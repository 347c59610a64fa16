"""``model_info`` and ``get_renderer`` agree: every renderer recommended for a model in vendor_configs/ builds.

``tml_v0`` (Inkling's format) builds with the Inkling tokenizer adapter over the pinned o200k ranks, as the
cookbook builds it over tml-renderers' tokenizer. The only recommended names that do not build are those
whose data only tml-renderers >= 0.4.1 ships (Kimi K3.1-Pro's renderer, Inkling-2-Small's h200k tokenizer),
a release the registry does not have; they must then say so.
"""

from __future__ import annotations

import pytest

from tests.testdata import need, tiktoken_file
from tinkerlite import model_info
from tinkerlite.renderers import BUILTIN_RENDERER_NAMES, Renderer, RendererError, get_renderer, make_renderer
from tinkerlite.tokenizer_utils import TmlRenderersTokenizerAdapter, TmlRenderersUnavailableError, get_tokenizer
from tinkerlite.tokenizers.o200k_chat import O200kBaseChatTokenizer
from tinkerlite.vendor_configs_loader import load_all

from .test_errors_and_api import FAMILY
from .tokenizers_for_tests import load

MODELS = sorted(load_all())
# Cookbook 0.6.1's renderer names (its tests/downstream_compat list plus the names its get_renderer adds).
COOKBOOK_NAMES = frozenset(
    {
        *BUILTIN_RENDERER_NAMES,
        "kimi_k31_pro_max_reasoning",
        "kimi_k31_pro_high_reasoning",
        "kimi_k31_pro_low_reasoning",
        "kimi_k31_pro_disable_thinking",
        "kimi_k31_pro_no_reasoning_effort",
        "tml_v0",
    }
)


def test_every_cookbook_name_is_known() -> None:
    assert len(COOKBOOK_NAMES) == 49
    for name in COOKBOOK_NAMES - set(BUILTIN_RENDERER_NAMES):
        with pytest.raises(RendererError, match="tml_renderers"):
            get_renderer(name, load("qwen3"))


@pytest.mark.parametrize("model", MODELS)
def test_recommended_renderers_build(model: str) -> None:
    names = model_info.get_recommended_renderer_names(model)
    assert names, model
    assert model_info.get_recommended_renderer_name(model) == names[0]
    for name in names:
        assert name in COOKBOOK_NAMES, f"{model} recommends {name!r}, which the cookbook does not register"
        if name == "tml_v0":
            _check_tml_v0(model)
            continue
        if name not in BUILTIN_RENDERER_NAMES:
            with pytest.raises(RendererError, match="tml_renderers"):
                get_renderer(name, load("qwen3"))
            continue
        renderer = make_renderer(name, load(FAMILY[name]), model_name=model)
        assert isinstance(renderer, Renderer)
        assert renderer.build_generation_prompt([{"role": "user", "content": "Hi"}]).length > 0


def _check_tml_v0(model: str) -> None:
    if model.startswith("thinkingmachines/Inkling-2-Small"):  # h200k: only in tml-renderers >= 0.4.1
        with pytest.raises(TmlRenderersUnavailableError, match="tml-renderers"):
            get_tokenizer(model)
        return
    tokenizer = TmlRenderersTokenizerAdapter(model, O200kBaseChatTokenizer(need(tiktoken_file, "gpt_oss")))
    renderer = get_renderer("tml_v0", tokenizer)
    assert renderer.build_generation_prompt([{"role": "user", "content": "Hi"}]).length > 0
