"""chat_sl's ``inline_evals="inspect"``: the cookbook's gsm8k + ifeval inspect evaluator, or the named extra."""

from __future__ import annotations

import importlib.util

import pytest

from tinkerlite.errors import MissingExtraError, ValidationError
from tinkerlite.recipes.chat_sl.train import get_infrequent_evaluator_builders


def test_none_gives_no_evaluators() -> None:
    assert get_infrequent_evaluator_builders(None, "qwen3", "Qwen/Qwen3-8B") == []


def test_unknown_name_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="unknown inline evaluator 'helm'"):
        get_infrequent_evaluator_builders("helm", "qwen3", "Qwen/Qwen3-8B")


@pytest.mark.skipif(importlib.util.find_spec("inspect_ai") is not None, reason="inspect_ai is installed here")
def test_inspect_without_inspect_ai_names_the_extra() -> None:
    with pytest.raises(MissingExtraError, match=r"tinkerlite\[inspect\]"):
        get_infrequent_evaluator_builders("inspect", "qwen3", "Qwen/Qwen3-8B")


@pytest.mark.slow
@pytest.mark.network_registry
def test_inspect_builder_as_the_cookbook_configures_it() -> None:
    from tests.eval.inspect_env import run_in_venv

    code = (
        "from tinkerlite.recipes.chat_sl.train import get_infrequent_evaluator_builders as g\n"
        "(b,) = g('inspect', 'qwen3', 'Qwen/Qwen3-8B')\n"
        "print(type(b).__name__, list(b.tasks), b.renderer_name, b.model_name, b.temperature, b.max_tokens,"
        " b.max_connections)\n"
    )
    proc = run_in_venv(["-c", code], timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == [
        "InspectEvaluatorBuilder", "['inspect_evals/gsm8k',", "'inspect_evals/ifeval']", "qwen3", "Qwen/Qwen3-8B",
        "0.6", "1000", "512",
    ]
