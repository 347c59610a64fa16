"""recipes.math_rl.math_env datasets take the cookbook's arguments and load their own rows (the hub, via
``datasets``); the builders pass rows they loaded (``file_path=``) and Polaris/DeepMath get no few-shot
prefix, as in the cookbook."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tinkerlite import renderers
from tinkerlite.errors import ValidationError
from tinkerlite.recipes.math_rl import math_env
from tinkerlite.tokenizer_utils import get_tokenizer

MODEL = "tinkerlite/tiny-chat"


class Rows(list[dict[str, Any]]):
    def shuffle(self, seed: int = 0) -> Rows:
        return Rows(reversed(self))

    def select(self, idx: range) -> Rows:
        return Rows(self[i] for i in idx)


@pytest.fixture
def renderer() -> Any:
    return renderers.get_renderer("role_colon", get_tokenizer(MODEL))


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None]]:
    calls: list[tuple[str, str | None]] = []
    data = {
        "openai/gsm8k": [{"question": f"Q{i}?", "answer": f"work\n#### {i}"} for i in range(5)],
        "POLARIS-Project/Polaris-Dataset-53K": [{"problem": f"P{i}", "answer": str(i)} for i in range(3)],
    }

    def load_dataset(name: str, *config: str, split: str | None = None) -> Rows:
        calls.append((name, split))
        return Rows(data[name])

    fake = SimpleNamespace(load_dataset=load_dataset)
    monkeypatch.setattr("tinkerlite.recipes._data.try_import", lambda name: fake if name == "datasets" else None)
    return calls


def test_cookbook_constructors_load_their_rows(renderer: Any, hub: list[tuple[str, str | None]]) -> None:
    test = math_env.Gsm8kDataset(batch_size=2, group_size=4, renderer=renderer, split="test")
    assert hub == [("openai/gsm8k", "test")] and len(test) == 3
    assert [b.num_envs for b in test.get_batch(0)] == [1, 1]  # test split: one sample per problem
    train = math_env.Gsm8kDataset(2, 4, renderer, None, "train", 0)
    assert train.get_batch(0)[0].num_envs == 4 and train.ds[0]["question"] == "Q4?"  # shuffled
    polaris = math_env.PolarisDataset(batch_size=3, group_size=2, renderer=renderer, seed=1)
    assert [type(b).__name__ for b in polaris.get_batch(0)] == ["ProblemGroupBuilder"] * 3
    with pytest.raises(ValidationError, match="split"):
        math_env.Gsm8kDataset(2, 4, renderer, split="dev")  # type: ignore[arg-type]


def test_polaris_builder_has_no_fewshot_prefix(tmp_path: Path) -> None:
    p = tmp_path / "polaris.jsonl"
    p.write_text("".join(json.dumps({"problem": f"What is {i}+{i}?", "answer": str(2 * i)}) + "\n" for i in range(4)))
    common: dict[str, Any] = dict(
        batch_size=2, model_name_for_tokenizer=MODEL, renderer_name="role_colon", group_size=2
    )
    ds, none = asyncio.run(math_env.PolarisDatasetBuilder(file_path=str(p), **common)())
    assert none is None and len(ds) == 2
    assert all(b.env_thunk.keywords["convo_prefix"] is None for b in ds.get_batch(0))  # type: ignore[attr-defined]
    gsm = tmp_path / "gsm.jsonl"
    gsm.write_text("".join(json.dumps({"question": f"Q{i}", "answer": f"#### {i}"}) + "\n" for i in range(4)))
    g, _ = asyncio.run(math_env.Gsm8kDatasetBuilder(file_path=str(gsm), **common)())
    assert all(b.env_thunk.keywords["convo_prefix"] for b in g.get_batch(0))  # type: ignore[attr-defined]
