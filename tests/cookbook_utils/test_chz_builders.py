"""The new builder/config classes behave as the cookbook's under chz: subclassing, replace, blueprints."""

from __future__ import annotations

import os
from typing import Any

import pytest

chz = pytest.importorskip("chz", reason="chz is the optional config extra")
if os.environ.get("TINKERLITE_CONFIG_BACKEND") == "stdlib":
    pytest.skip("stdlib config backend forced", allow_module_level=True)

from tinkerlite.preference.preference_datasets import ComparisonDatasetBuilder  # noqa: E402
from tinkerlite.preference.types import (  # noqa: E402
    Comparison,
    LabeledComparison,
    PreferenceModelBuilderFromChatRenderer,
)
from tinkerlite.rl.train import StreamMinibatchConfig  # noqa: E402
from tinkerlite.supervised import HFDatasetSource  # noqa: E402


@chz.chz
class _MyComparisons(ComparisonDatasetBuilder):
    rows: int = 3

    def get_train_and_test_datasets(self) -> tuple[Any, Any | None]:
        return [{"i": i} for i in range(self.rows)], None

    def example_to_labeled_comparison(self, example: dict[str, Any]) -> LabeledComparison | None:
        if example["i"] == 0:
            return None
        msg = [{"role": "user", "content": str(example["i"])}]
        return LabeledComparison(Comparison(msg, msg, msg), "A")


def test_chz_subclass_of_comparison_builder() -> None:
    b = _MyComparisons(rows=4, swap=True)
    train, test = b.get_labeled_comparisons()
    assert len(train) == 3 and test is None and b.swap is True
    assert chz.replace(b, rows=2).rows == 2


def test_blueprint_overrides_on_new_configs() -> None:
    s = chz.Blueprint(StreamMinibatchConfig).apply({"groups_per_batch": 8, "num_minibatches": 2}).make()
    assert (s.groups_per_batch, s.num_minibatches) == (8, 2)
    src = chz.Blueprint(HFDatasetSource).apply_from_argv(["path=allenai/x", "weight=0.5"]).make()
    assert src.path == "allenai/x" and src.weight == 0.5 and src.split == "train"
    pm = chz.Blueprint(PreferenceModelBuilderFromChatRenderer).apply_from_argv(
        ["renderer_name=role_colon", "model_name=m", "rm_weights_path=p"]
    ).make()
    assert pm.rm_weights_path == "p" and chz.is_chz(pm)
