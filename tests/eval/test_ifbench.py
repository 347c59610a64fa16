"""ifbench: the IFBench checker protocol driven as the cookbook drives it (a stand-in registry module with
the official checker interface), and the named ImportError without the package."""

from __future__ import annotations

import asyncio
import sys
import types
from typing import Any, ClassVar

import pytest

from tinkerlite.eval.benchmarks.ifbench import IFBenchBenchmarkBuilder, IFBenchEnv, _verify_constraints
from tinkerlite.renderers import get_renderer
from tinkerlite.tokenizer_utils import get_tokenizer


class Contains:
    """Shaped like an IFBench Instruction: build_description, get_instruction_args, check_following."""

    calls: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, iid: str) -> None:
        self.word, self.prompt = "", ""

    def build_description(self, **kw: Any) -> str:
        Contains.calls.append(kw)
        self.word = kw.get("word", self.word)
        self.prompt = kw.get("prompt", self.prompt)
        return ""

    def get_instruction_args(self) -> dict[str, Any]:
        return {"word": self.word, "prompt": self.prompt}

    def check_following(self, response: str) -> bool:
        if self.word == "boom":
            raise RuntimeError("checker crashed")
        return self.word in response and (not self.prompt or "?" in self.prompt)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    mod = types.ModuleType("instructions_registry")
    mod.INSTRUCTION_DICT = {"custom:contains": Contains}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "instructions_registry", mod)
    Contains.calls = []


def test_verification_follows_the_checker_protocol(registry: None) -> None:
    ids = ["custom:contains", "custom:contains", "unknown:id", "custom:contains"]
    kws = [{"word": "cat", "unused": None}, {"word": "dog"}, {}, {"word": "boom"}]
    assert _verify_constraints("a cat", ids, kws, prompt="why?") == (0.25, False)
    assert Contains.calls[0] == {"word": "cat"} and {"prompt": "why?"} in Contains.calls  # None dropped
    assert _verify_constraints("a cat", ids[:1], kws[:1], prompt="why?") == (1.0, True)
    assert _verify_constraints("x", [], []) == (0.0, False)


def test_env_grades_decoded_response(registry: None) -> None:
    tok = get_tokenizer("tinkerlite/tiny-chat")
    env = IFBenchEnv("Name a pet?", ["custom:contains"], [{"word": "cat"}], get_renderer("role_colon", tok), "ifb_1")
    ob, stop = asyncio.run(env.initial_observation())
    assert "Name a pet?" in tok.decode(ob.to_ints()) and stop
    result = asyncio.run(env.step(tok.encode(" a cat\n\nUser:", add_special_tokens=False)))
    assert result.reward == 1.0 and result.logs["example_id"] == "ifb_1" and result.metrics["fraction"] == 1.0
    agg = IFBenchBenchmarkBuilder().aggregate([1.0, 0.0], [{"fraction": 1.0}, {"fraction": 0.5}])
    assert agg.metrics == {"ifbench/strict_accuracy": 0.5, "ifbench/loose_accuracy": 0.75}


def test_without_the_checker_package_the_install_line_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "instructions_registry", None)
    with pytest.raises(ImportError, match=r"ifbench @ git\+https://github\.com/allenai/IFBench\.git"):
        _verify_constraints("x", ["a:b"], [{}])
