"""ComparisonDatasetBuilder family, comparison renderer, preference model (the cookbook's names)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import tinkerlite.preference as pref
from tinkerlite.preference.preference_datasets import ChatDatasetBuilderFromComparisons, ComparisonBuilderFromJsonl
from tinkerlite.preference.types import (
    Comparison,
    ComparisonRendererFromChatRenderer,
    LabeledComparison,
    PreferenceModelBuilderFromChatRenderer,
    PreferenceModelFromChatRenderer,
)
from tinkerlite.renderers import get_renderer
from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig
from tinkerlite.tokenizers import get_tokenizer

MODEL = "tinkerlite/tiny-chat"


def _lc(i: int, label: str) -> dict[str, Any]:
    return {
        "comparison": {
            "prompt_conversation": [{"role": "user", "content": f"q{i}"}],
            "completion_A": [{"role": "assistant", "content": f"a{i}"}],
            "completion_B": [{"role": "assistant", "content": f"b{i}"}],
        },
        "label": label,
    }


def test_chat_dataset_from_jsonl_comparisons_trains_only_the_label(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(_lc(i, "AB"[i % 2])) + "\n" for i in range(4)) + json.dumps({"x": 1}) + "\n")
    test = tmp_path / "test.jsonl"
    test.write_text(json.dumps(_lc(9, "A")) + "\n")
    jb = ComparisonBuilderFromJsonl(train_path=str(train), test_path=str(test))
    tr, te = jb.get_labeled_comparisons()
    assert [lc.label for lc in tr] == ["A", "B", "A", "B"] and te is not None and len(te) == 1
    common = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer=MODEL, renderer_name="role_colon", max_length=None, batch_size=2
    )
    builder = ChatDatasetBuilderFromComparisons(common_config=common, comparison_builder=jb, swap=True)
    train_ds, test_ds = builder()
    assert test_ds is not None and len(test_ds.get_batch(0)) == 2  # swap: both orders
    batch = train_ds.get_batch(0)
    assert len(batch) == 4
    tok = get_tokenizer(MODEL)
    texts = []
    for d in batch:
        w = d.loss_fn_inputs["weights"].tolist()
        assert sum(w) == 1.0 and w[-1] == 1.0  # truncated right after the first trained token
        texts.append(tok.decode(d.model_input.to_ints() + d.loss_fn_inputs["target_tokens"].tolist()[-1:]))
    assert all("==== Preference ====" in t.rsplit("Completion B", 1)[1] for t in texts)
    first, swapped = texts[0], texts[1]  # swap=True: each comparison, then the same one with A and B exchanged
    assert first.index("a0") < first.index("b0") and swapped.index("b0") < swapped.index("a0")


def test_comparison_renderer_prompt_and_swap_keeps_meaning() -> None:
    r = ComparisonRendererFromChatRenderer(get_renderer("role_colon", get_tokenizer(MODEL)))
    c = Comparison(
        prompt_conversation=[{"role": "user", "content": "hi"}],
        completion_A=[{"role": "assistant", "content": "xx1"}],
        completion_B=[{"role": "assistant", "content": "yy2"}],
    )
    text = r.tokenizer.decode(r.build_generation_prompt(c).to_ints())
    assert text.index("Completion A") < text.index("xx1") < text.index("Completion B") < text.index("yy2")
    assert text.index("Preference") > text.index("yy2")
    assert LabeledComparison(c, "A").swap().label == "B"


class _FakeSampler:
    def __init__(self, tok: Any, answer: str) -> None:
        self.tok, self.answer = tok, answer
        self.params: Any = None

    async def sample(self, prompt: Any, num_samples: int, sampling_params: Any) -> Any:
        self.params = sampling_params

        class _Seq:
            tokens = self.tok.encode(self.answer, add_special_tokens=False)

        class _Resp:
            def __init__(self) -> None:
                self.sequences = [_Seq()]

        return _Resp()


@pytest.mark.parametrize(("answer", "score"), [("A", -1.0), ("B", 1.0), ("Tie", 0.0), ("zz", 0.0)])
def test_preference_model_maps_the_sampled_token(answer: str, score: float) -> None:
    tok = get_tokenizer(MODEL)
    sampler = _FakeSampler(tok, answer)
    pm = PreferenceModelFromChatRenderer(get_renderer("role_colon", tok), sampler)
    c = Comparison([{"role": "user", "content": "q"}], [{"role": "assistant", "content": "a"}],
                   [{"role": "assistant", "content": "b"}])
    assert asyncio.run(pm(c)) == score
    assert sampler.params.temperature == 0.0 and sampler.params.max_tokens == 1


def test_builder_is_a_config_and_package_exports() -> None:
    b = PreferenceModelBuilderFromChatRenderer(renderer_name="role_colon", model_name=MODEL, rm_weights_path="p")
    assert b.base_url is None
    assert set(pref.__all__) == {"Comparison", "ComparisonDatasetBuilder", "LabeledComparison"}
    assert pref.ComparisonDatasetBuilder().swap is False
