"""The cookbook's tml_renderers-backed names: tokenizer_utils' Tml* API and the Kimi K3.1-Pro renderers.

Kimi K3.1-Pro needs tml-renderers>=0.4.1 (its KimiK31Pro renderer and KimiK3Tokenizer), which is not on PyPI
(0.2.1 is the newest there and has neither), so its renderers must fail with one clear, typed error; Inkling
(o200k_base_chat) is served by tinkerlite's own tokenizer, Inkling-2-Small's h200k one only by the wheel.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path

import pytest

from tests.testdata import need, tiktoken_file
from tinkerlite import tokenizer_utils as tu
from tinkerlite.renderers import RendererError, get_renderer
from tinkerlite.renderers.kimi_k31_pro import KimiK31ProRenderer, KimiK31ProUnavailableError
from tinkerlite.renderers.tml_v0 import TmlV0Renderer

from .tokenizers_for_tests import load

K31_NAMES = [
    "kimi_k31_pro_max_reasoning",
    "kimi_k31_pro_high_reasoning",
    "kimi_k31_pro_low_reasoning",
    "kimi_k31_pro_disable_thinking",
    "kimi_k31_pro_no_reasoning_effort",
]
HAS_WHEEL = importlib.util.find_spec("tml_renderers") is not None


@pytest.fixture
def o200k(monkeypatch: pytest.MonkeyPatch) -> Path:
    path = need(tiktoken_file, "gpt_oss")
    monkeypatch.setenv("TINKERLITE_O200K_BASE", str(path))
    return path


@pytest.mark.parametrize("name", K31_NAMES)
def test_kimi_k31_pro_raises_one_clear_error(name: str) -> None:
    for tokenizer in (load("qwen3"), load("kimi_k2")):
        with pytest.raises(KimiK31ProUnavailableError) as exc:
            get_renderer(name, tokenizer)
        msg = str(exc.value)
        assert "tml-renderers>=0.4.1" in msg and "not on PyPI" in msg and "KimiK31Pro" in msg
        assert isinstance(exc.value, RendererError) and isinstance(exc.value, ModuleNotFoundError)
        assert exc.value.field == "renderer_name"


def test_kimi_k31_pro_names_and_signature_are_the_cookbooks() -> None:
    params = inspect.signature(KimiK31ProRenderer.__init__).parameters
    assert list(params) == ["self", "tokenizer", "reasoning_effort", "support_thinking"]
    assert params["reasoning_effort"].default == "max" and params["support_thinking"].default is True
    assert KimiK31ProRenderer.renderer_name == "kimi_k31_pro"


def test_family_routing() -> None:
    assert tu._tml_tokenizer_family("thinkingmachines/Inkling") == "o200k_base_chat"
    assert tu._tml_tokenizer_family("thinkingmachines/Inkling-Small:peft:131072") == "o200k_base_chat"
    assert tu._tml_tokenizer_family("thinkingmachines/Inkling-2-Small") == "h200k_base_chat"
    assert tu._tml_tokenizer_family("moonshotai/Kimi-K3.1-Pro") == "kimi_k3"
    assert tu._tml_tokenizer_family("Qwen/Qwen3-8B") is None
    assert tu.is_tml_renderers_model("thinkingmachines/Inkling") and not tu.is_tml_renderers_model("Qwen/Qwen3-8B")


def test_inkling_tokenizer_is_tinkerlites_own(o200k: Path) -> None:
    tok = tu.get_tokenizer("thinkingmachines/Inkling:peft:131072")
    assert isinstance(tok, tu.TmlRenderersTokenizerAdapter) and isinstance(tok, tu.SupportsTmlTokenizer)
    assert tok.name_or_path == "thinkingmachines/Inkling:peft:131072"
    assert (tok.bos_token, tok.eos_token, tok.eos_token_id) == ("begin_of_text", "endoftext", 199999)
    assert tok.decode(tok.encode("hello")) == "hello"
    renderer = get_renderer("tml_v0", tok)
    assert isinstance(renderer, TmlV0Renderer)
    assert "Thinking effort level: 0.9" in tok.decode(
        renderer.build_generation_prompt([{"role": "user", "content": "Hi"}]).to_ints()
    )


@pytest.mark.skipif(HAS_WHEEL, reason="tml_renderers is installed here: the h200k/K3 tokenizers may exist")
@pytest.mark.parametrize("model", ["thinkingmachines/Inkling-2-Small", "moonshotai/Kimi-K3.1-Pro"])
def test_wheel_only_tokenizers_say_what_is_missing(model: str) -> None:
    with pytest.raises(tu.TmlRenderersUnavailableError, match=r"tml-renderers>=0\.4\.1.*not on PyPI"):
        tu.get_tokenizer(model)


def test_missing_rank_file_names_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tinkerlite.errors import ValidationError
    from tinkerlite.tokenizers import o200k_chat

    monkeypatch.delenv("TINKERLITE_O200K_BASE", raising=False)
    monkeypatch.setenv("TIKTOKEN_ENCODINGS_BASE", str(tmp_path))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ValidationError, match=r"pip install tml-renderers==0\.2\.1"):
        o200k_chat.find_o200k_base()
    bad = tmp_path / "o200k_base.tiktoken"
    bad.write_bytes(b"YQ== 0\n")
    with pytest.raises(ValidationError, match="sha256"):
        o200k_chat.find_o200k_base(bad)


def test_ensure_tml_renderers_importable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if HAS_WHEEL:
        tu.ensure_tml_renderers_importable()
        return
    monkeypatch.delenv("TML_RENDERERS_SOURCE_DIR", raising=False)
    with pytest.raises(ModuleNotFoundError, match=r"tml_renderers.*not on PyPI"):
        tu.ensure_tml_renderers_importable()
    (tmp_path / "tml_renderers").mkdir()
    (tmp_path / "tml_renderers" / "__init__.py").write_text("")
    monkeypatch.setenv("TML_RENDERERS_SOURCE_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "path", list(sys.path))
    tu.ensure_tml_renderers_importable()
    assert str(tmp_path) in sys.path
