"""supervised.viz_sft_dataset prints a real builder's first batch coloured by loss weight;
renderers.testing_utils normalises chat-template results and loads pytest only for its mark."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.supervised.data import FromConversationFileBuilder
from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig


def test_viz_prints_trained_tokens_green(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tinkerlite.supervised import viz_sft_dataset

    data = tmp_path / "rows.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"hi {i}"}, {"role": "assistant", "content": f"yo {i}"}]}
            for i in range(100)]  # the script shows one batch of 100
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))

    def builder(common_config: ChatDatasetBuilderCommonConfig) -> FromConversationFileBuilder:
        return FromConversationFileBuilder(common_config=common_config, file_path=str(data), test_size=0)

    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("ANSI_COLORS_DISABLED", raising=False)
    prompts: list[str] = []
    monkeypatch.setattr("builtins.input", lambda p="": prompts.append(p) or "")
    monkeypatch.setattr(viz_sft_dataset, "lookup_func", lambda path, default_module=None: builder)
    cfg = viz_sft_dataset.Config(model_name="tinkerlite/tiny-chat", dataset_path="x:builder",
                                 renderer_name="role_colon")
    viz_sft_dataset.run(cfg)
    out = capsys.readouterr().out
    assert prompts == ["press enter"] * 100
    assert "\x1b[32m" in out and "\x1b[33m" in out  # trained (assistant) and untrained (prompt) runs
    green = [seg.split("\x1b[0m")[0] for seg in out.split("\x1b[32m")[1:]]
    assert any("yo" in g for g in green) and not any("hi" in g for g in green)


def test_testing_utils() -> None:
    from tinkerlite.renderers import testing_utils

    class Encoding(dict[str, Any]):
        input_ids = True

    assert testing_utils.extract_token_ids([1, 2]) == [1, 2]
    assert testing_utils.extract_token_ids(Encoding(input_ids=[3, 4])) == [3, 4]
    assert testing_utils.skip_deepseek_tokenizer_bug.name == "skipif"
    testing_utils.skip_if_deepseek_tokenizer_bug("deepseek-ai/DeepSeek-V3.1")  # returns: no buggy transformers
    with pytest.raises(AttributeError):
        testing_utils.not_a_name  # noqa: B018
