"""Comparison datasets for preference learning: HH-RLHF, HelpSteer 2/3, UltraFeedback, Tulu 3 8B, Arena.

Each builder is a :class:`~tinkerlite.preference.preference_datasets.ComparisonDatasetBuilder`: it loads
raw rows (``datasets`` from the hub, or ``file_path=`` JSONL in the hub dataset's row shape) and turns each
row into a :class:`LabeledComparison` (``None`` skips a malformed row). :class:`HHHComparisonBuilder`
falls back to the bundled ``tiny_hhh.jsonl`` when neither is available, so DPO runs offline.
"""

from __future__ import annotations

import re
from typing import Any

from ... import renderers
from ...preference.preference_datasets import ComparisonDatasetBuilder
from ...preference.types import Comparison, LabeledComparison
from ...utils.config import configclass
from .._data import load_rows

__all__ = [
    "ArenaComparisonBuilder",
    "HHHComparisonBuilder",
    "HelpSteer2ComparisonBuilder",
    "HelpSteer3ComparisonBuilder",
    "Tulu38BComparisonBuilder",
    "UltraFeedbackComparisonBuilder",
    "hhh_example_to_comparison",
]

_TURN = re.compile(r"(Human:|Assistant:)")


def _hhh_parse_conversation(text: str) -> list[renderers.Message]:
    """``"\\n\\nHuman: ...\\n\\nAssistant: ..."`` transcripts as messages."""
    parts = _TURN.split(text)
    if parts and not parts[0].strip():
        parts = parts[1:]
    out: list[renderers.Message] = []
    for tag, content in zip(parts[0::2], parts[1::2], strict=False):
        role = "user" if tag.strip() == "Human:" else "assistant"
        out.append({"role": role, "content": content.strip()})
    return out


def hhh_example_to_comparison(example: dict[str, str]) -> LabeledComparison | None:
    """Chosen and rejected share every turn but the last; anything else is malformed (None)."""
    chosen, rejected = _hhh_parse_conversation(example["chosen"]), _hhh_parse_conversation(example["rejected"])
    if not chosen or len(chosen) != len(rejected):
        return None
    same = [a == b for a, b in zip(chosen, rejected, strict=True)]
    if same != [True] * (len(same) - 1) + [False]:
        return None
    return LabeledComparison(
        comparison=Comparison(chosen[:-1], [chosen[-1]], [rejected[-1]]), label="A"
    )


def _single_turn(prompt: str, a: str, b: str, label: str = "A") -> LabeledComparison:
    return LabeledComparison(
        comparison=Comparison(
            [{"role": "user", "content": prompt}],
            [{"role": "assistant", "content": a}],
            [{"role": "assistant", "content": b}],
        ),
        label=label,  # type: ignore[arg-type]
    )


def _split_off(rows: Any, n_test: int) -> tuple[Any, Any]:
    rows = rows.shuffle(seed=0)
    n = min(n_test, len(rows) // 8) if len(rows) < 8 * n_test else n_test
    return rows.skip(n), rows.take(n)


@configclass
class HHHComparisonBuilder(ComparisonDatasetBuilder):
    """Anthropic HH-RLHF (``chosen``/``rejected`` transcripts); ``test_size`` test rows."""

    test_size: int = 1024
    file_path: str | None = None

    def get_train_and_test_datasets(self) -> tuple[Any, Any | None]:
        kw: dict[str, Any] = {"file_path": self.file_path, "bundled": "tiny_hhh.jsonl",
                              "shape": '{"chosen": "\\n\\nHuman: ...\\n\\nAssistant: ...", "rejected": ...}'}
        if self.file_path:
            return _split_off(load_rows("Anthropic/hh-rlhf", None, **kw), self.test_size)
        train = load_rows("Anthropic/hh-rlhf", "train", **kw).shuffle(seed=0)
        test = load_rows("Anthropic/hh-rlhf", "test", **kw).shuffle(seed=0)
        return train, test.take(min(self.test_size, len(test)))

    def example_to_labeled_comparison(self, example: dict[str, Any]) -> LabeledComparison | None:
        return hhh_example_to_comparison(example)


@configclass
class HelpSteer3ComparisonBuilder(ComparisonDatasetBuilder):
    """nvidia/HelpSteer3 ``preference``: ``context`` messages, two responses, ``overall_preference`` (<0: A)."""

    file_path: str | None = None

    def get_train_and_test_datasets(self) -> tuple[Any, Any | None]:
        kw: dict[str, Any] = {"config_name": "preference", "file_path": self.file_path,
                              "shape": '{"context", "response1", "response2", "overall_preference"}'}
        if self.file_path:
            return _split_off(load_rows("nvidia/HelpSteer3", None, **kw), 1024)
        train = load_rows("nvidia/HelpSteer3", "train", **kw).shuffle(seed=0)
        test = load_rows("nvidia/HelpSteer3", "validation", **kw).shuffle(seed=0)
        return train, test.take(min(1024, len(test)))

    def example_to_labeled_comparison(self, example: dict[str, Any]) -> LabeledComparison | None:
        pref = example["overall_preference"]
        if pref == 0:
            return None  # a tie carries no preference
        return LabeledComparison(
            comparison=Comparison(
                list(example["context"]),
                [{"role": "assistant", "content": example["response1"]}],
                [{"role": "assistant", "content": example["response2"]}],
            ),
            label="A" if pref < 0 else "B",
        )


@configclass
class UltraFeedbackComparisonBuilder(ComparisonDatasetBuilder):
    """argilla/ultrafeedback-binarized-preferences: ``instruction``, ``chosen_response``, ``rejected_response``."""

    file_path: str | None = None

    def get_train_and_test_datasets(self) -> tuple[Any, Any | None]:
        rows = load_rows("argilla/ultrafeedback-binarized-preferences", "train", file_path=self.file_path,
                         shape='{"instruction", "chosen_response", "rejected_response"}')
        return _split_off(rows, 1024)

    def example_to_labeled_comparison(self, example: dict[str, Any]) -> LabeledComparison | None:
        return _single_turn(example["instruction"], example["chosen_response"], example["rejected_response"])


@configclass
class Tulu38BComparisonBuilder(ComparisonDatasetBuilder):
    """allenai/llama-3.1-tulu-3-8b-preference-mixture: ``prompt``, ``chosen``/``rejected`` message pairs."""

    file_path: str | None = None

    def get_train_and_test_datasets(self) -> tuple[Any, Any | None]:
        rows = load_rows("allenai/llama-3.1-tulu-3-8b-preference-mixture", "train", file_path=self.file_path,
                         shape='{"prompt", "chosen": [user, assistant], "rejected": [...]}')
        return _split_off(rows, 1024)

    def example_to_labeled_comparison(self, example: dict[str, Any]) -> LabeledComparison | None:
        return _single_turn(example["prompt"], example["chosen"][1]["content"], example["rejected"][1]["content"])


def _arena_conversation(conversation: list[dict[str, Any]]) -> list[renderers.Message] | None:
    out: list[renderers.Message] = []
    for turn in conversation:
        role, content = turn.get("role"), turn.get("content")
        if role not in ("user", "assistant") or not isinstance(content, str):
            return None
        out.append({"role": role, "content": content})
    return out


@configclass
class ArenaComparisonBuilder(ComparisonDatasetBuilder):
    """lmarena-ai/arena-human-preference-140k style rows: ``conversation_a``/``conversation_b``, ``winner``."""

    file_path: str | None = None

    def get_train_and_test_datasets(self) -> tuple[Any, Any | None]:
        rows = load_rows("lmarena-ai/arena-human-preference-140k", "train", file_path=self.file_path,
                         shape='{"conversation_a", "conversation_b", "winner": "model_a"|"model_b"}')
        return _split_off(rows, 1024)

    def example_to_labeled_comparison(self, example: dict[str, Any]) -> LabeledComparison | None:
        winner = example.get("winner")
        if winner not in ("model_a", "model_b"):
            return None
        a, b = _arena_conversation(example["conversation_a"]), _arena_conversation(example["conversation_b"])
        if not a or not b or len(a) < 2 or a[:-1] != b[:-1]:
            return None
        return LabeledComparison(Comparison(a[:-1], [a[-1]], [b[-1]]), "A" if winner == "model_a" else "B")


@configclass
class HelpSteer2ComparisonBuilder(ComparisonDatasetBuilder):
    """nvidia/HelpSteer2 rated responses, paired per prompt: the higher ``helpfulness`` is preferred."""

    file_path: str | None = None

    def get_train_and_test_datasets(self) -> tuple[Any, Any | None]:
        rows = load_rows("nvidia/HelpSteer2", "train", file_path=self.file_path,
                         shape='{"prompt", "response", "helpfulness"} (two consecutive rows per prompt)')
        pairs = []
        for i in range(0, len(rows) - 1, 2):
            first, second = rows[i], rows[i + 1]
            if first["prompt"] == second["prompt"]:
                pairs.append({"prompt": first["prompt"], "a": first["response"], "b": second["response"],
                              "score_a": first["helpfulness"], "score_b": second["helpfulness"]})
        from .._data import Rows

        return _split_off(Rows(pairs), 512)

    def example_to_labeled_comparison(self, example: dict[str, Any]) -> LabeledComparison | None:
        if example["score_a"] == example["score_b"]:
            return None
        return _single_turn(example["prompt"], example["a"], example["b"],
                            "A" if example["score_a"] > example["score_b"] else "B")
