"""Comparison files: valid rows load, every kind of bad row names its file and line, ties follow the policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.preference.comparisons import read_comparison_file, write_comparison_file
from tinkerlite.preference.dpo_datasets import (
    ComparisonFileBuilder,
    DPODatasetBuilderFromComparisons,
    comparisons_to_pairs,
)
from tinkerlite.preference.synthetic import make_case_preference_set
from tinkerlite.preference.types import Comparison, LabeledComparison, chosen_and_rejected
from tinkerlite.renderers import get_renderer
from tinkerlite.supervised.data import DataFormatError
from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig
from tinkerlite.tokenizers import get_tokenizer

U = {"role": "user", "content": "hi"}


def A(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def row(a: Any = None, b: Any = None, label: Any = "A", prompt: Any = None) -> dict[str, Any]:
    return {
        "comparison": {
            "prompt_conversation": [U] if prompt is None else prompt,
            "completion_A": [A("yes")] if a is None else a,
            "completion_B": [A("no")] if b is None else b,
        },
        "label": label,
    }


def write(tmp_path: Path, rows: list[Any]) -> Path:
    p = tmp_path / "cmp.jsonl"
    p.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return p


@pytest.fixture
def renderer() -> Any:
    return get_renderer("role_colon", get_tokenizer("tinkerlite/tiny-chat"))


def test_valid_file_round_trips(tmp_path: Path) -> None:
    items = make_case_preference_set(10, seed=3, num_ties=2)
    p = write_comparison_file(tmp_path / "x.jsonl", items)
    loaded = read_comparison_file(p)
    assert [x.labeled for x in loaded] == items
    assert [x.line for x in loaded] == list(range(1, 13))


BAD_ROWS = [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "must be a JSON object"),
    (json.dumps({"label": "A"}), "missing 'comparison'"),
    (json.dumps(row(label="C")), "label: must be one of A, B, Tie; got 'C'"),
    (json.dumps(row(label="a")), "label: must be one of"),
    (json.dumps({"comparison": [], "label": "A"}), "comparison: must be an object"),
    (json.dumps({"comparison": {"prompt_conversation": [U], "completion_A": [A("x")]}, "label": "A"}), "completion_B"),
    (json.dumps(row(a=[])), "comparison.completion_A: is empty"),
    (json.dumps(row(b=[A("")])), "comparison.completion_B: has no content"),
    (json.dumps(row(b=[A("   ")])), "comparison.completion_B: has no content"),
    (json.dumps(row(prompt=[])), "comparison.prompt_conversation: is empty"),
    (json.dumps(row(a=[{"content": "x"}])), "completion_A: messages[0].role"),
    (json.dumps(row(a="yes")), "completion_A: messages: must be a list"),
    (json.dumps(row(a=[A("same")], b=[A("same")])), "identical but labelled 'A'"),
    (json.dumps(row(a=[A("same")], b=[A("same")], label="B")), "identical but labelled 'B'"),
]


@pytest.mark.parametrize("bad,message", BAD_ROWS)
def test_bad_rows_name_file_and_line(tmp_path: Path, bad: str, message: str) -> None:
    p = write(tmp_path, [row(), "", row(), bad, row()])
    with pytest.raises(DataFormatError) as e:
        read_comparison_file(p)
    assert str(e.value).startswith(f"{p}:4: "), str(e.value)
    assert message in str(e.value)
    assert e.value.line == 4 and e.value.path == str(p)


def test_bad_utf8_and_missing_and_empty_files(tmp_path: Path) -> None:
    p = tmp_path / "bin.jsonl"
    p.write_bytes(json.dumps(row()).encode() + b"\n\xff\xfe\n")
    with pytest.raises(DataFormatError, match=r"bin.jsonl:2: not valid UTF-8"):
        read_comparison_file(p)
    with pytest.raises(DataFormatError, match="cannot open"):
        read_comparison_file(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(DataFormatError, match="no rows"):
        read_comparison_file(tmp_path / "empty.jsonl")


def test_identical_tie_is_allowed_and_skipped(tmp_path: Path, renderer: Any) -> None:
    p = write(tmp_path, [row(), row(a=[A("same")], b=[A("same")], label="Tie")])
    items = read_comparison_file(p)
    pairs, stats = comparisons_to_pairs(items, renderer, None, "skip")
    assert len(pairs) == 1 and stats.num_ties_skipped == 1 and stats.num_rows == 2


def test_tie_policies(renderer: Any) -> None:
    tie = LabeledComparison(Comparison([U], [A("a")], [A("b")]), "Tie")  # type: ignore[list-item]
    assert chosen_and_rejected(tie, "skip") is None
    assert chosen_and_rejected(tie, "as_b") == ([A("b")], [A("a")])  # the cookbook's behaviour
    with pytest.raises(ValidationError, match="tie_policy='error'"):
        chosen_and_rejected(tie, "error")
    with pytest.raises(ValidationError, match="tie_policy"):
        comparisons_to_pairs([tie], renderer, None, "drop")  # type: ignore[arg-type]
    pairs, stats = comparisons_to_pairs([tie], renderer, None, "as_b")
    assert len(pairs) == 1 and stats.num_ties_skipped == 0


def test_tie_error_policy_names_the_line(tmp_path: Path, renderer: Any) -> None:
    p = write(tmp_path, [row(), row(label="Tie")])
    with pytest.raises(DataFormatError, match=r"cmp.jsonl:2: .*tie_policy='error'"):
        comparisons_to_pairs(read_comparison_file(p), renderer, None, "error")


def test_swap_keeps_meaning() -> None:
    lc = LabeledComparison(Comparison([U], [A("a")], [A("b")]), "A")  # type: ignore[list-item]
    assert chosen_and_rejected(lc) == chosen_and_rejected(lc.swap()) == ([A("a")], [A("b")])
    assert lc.swap().swap() == lc


def test_pairs_render_chosen_first_with_unnormalised_weights(renderer: Any) -> None:
    lc = LabeledComparison(Comparison([U], [A("no")], [A("yes!")]), "B")  # type: ignore[list-item]
    (chosen, rejected), _ = comparisons_to_pairs([lc], renderer, None)[0][0], None
    text = get_tokenizer("tinkerlite/tiny-chat").decode(chosen.model_input.to_ints())
    assert "yes!" in text and "no" not in text.split("Assistant:")[-1]
    w = list(chosen.loss_fn_inputs["weights"].dense_flat())
    assert set(w) <= {0.0, 1.0} and sum(w) == len(" yes!\n\nUser:")  # reduction="none"
    assert sum(rejected.loss_fn_inputs["weights"].dense_flat()) == len(" no\n\nUser:")


def test_truncation_that_makes_pairs_identical_is_reported(tmp_path: Path, renderer: Any) -> None:
    long_prompt = [{"role": "user", "content": "x" * 40}]
    p = write(tmp_path, [row(prompt=long_prompt, a=[A("alpha")], b=[A("alphb")])])
    items = read_comparison_file(p)
    # Everything past the prompt is cut: no trained token is left.
    with pytest.raises(DataFormatError, match=r"cmp.jsonl:1: .*no trained token within max_length=20"):
        comparisons_to_pairs(items, renderer, 20)
    # The completions differ only in their last letter, which is cut: identical after truncation.
    n = len(renderer.build_generation_prompt(long_prompt).to_ints()) + len(" alph")
    with pytest.raises(DataFormatError, match=r"cmp.jsonl:1: .*identical tokens .*max_length"):
        comparisons_to_pairs(items, renderer, n)


def test_builder_splits_and_batches_interleaved(tmp_path: Path) -> None:
    p = write_comparison_file(tmp_path / "x.jsonl", make_case_preference_set(40, seed=5, num_ties=3))
    cc = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer="tinkerlite/tiny-chat", renderer_name="role_colon", max_length=128, batch_size=8
    )
    train, test = DPODatasetBuilderFromComparisons(
        common_config=cc,
        comparison_builder=ComparisonFileBuilder(train_path=str(p), test_size=10, shuffle_seed=1),
        tie_policy="skip",
    )()
    assert test is not None
    assert train.stats.num_rows + test.stats.num_rows == 43
    assert train.stats.num_pairs + test.stats.num_pairs == 40
    assert train.stats.num_ties_skipped + test.stats.num_ties_skipped == 3
    assert len(train) == train.stats.num_pairs // 8
    train.set_epoch(0)
    batch = train.get_batch(0)
    assert len(batch) == 16
    tok = get_tokenizer("tinkerlite/tiny-chat")
    for c, r in zip(batch[0::2], batch[1::2], strict=True):  # same prompt, different completion
        pc = tok.decode(c.model_input.to_ints()).split("Assistant:")[0]
        pr = tok.decode(r.model_input.to_ints()).split("Assistant:")[0]
        assert pc == pr
    train.set_epoch(1)
    assert train.get_batch(0) != batch
    as_cookbook, _ = DPODatasetBuilderFromComparisons(
        common_config=cc, comparison_builder=ComparisonFileBuilder(train_path=str(p))
    )()
    assert (as_cookbook.stats.num_pairs, as_cookbook.stats.num_ties_skipped) == (43, 0)  # default: a tie trains B
    with pytest.raises(ValidationError, match="no full batch"):
        DPODatasetBuilderFromComparisons(
            common_config=ChatDatasetBuilderCommonConfig(
                model_name_for_tokenizer="tinkerlite/tiny-chat",
                renderer_name="role_colon",
                max_length=128,
                batch_size=100,
            ),
            comparison_builder=ComparisonFileBuilder(train_path=str(p)),
        )()
