"""rl.preference_envs: tournaments judged by a preference model, format penalty, datasets from comparisons."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.completers import TokensWithLogprobs
from tinkerlite.exceptions import ConfigurationError
from tinkerlite.preference.preference_datasets import ComparisonDatasetBuilder
from tinkerlite.preference.types import Comparison, LabeledComparison, PreferenceModel
from tinkerlite.renderers import get_renderer
from tinkerlite.rl.preference_envs import (
    PairwisePreferenceGroupBuilder,
    PairwisePreferenceRLDatasetBuilder,
    TournamentPattern,
    get_pairs,
    get_pairs_chunked,
)
from tinkerlite.rl.types import Trajectory, Transition
from tinkerlite.tokenizers import get_tokenizer
from tinkerlite.types import ModelInput
from tinkerlite.utils import logtree
from tinkerlite.utils.config import configclass

MODEL = "tinkerlite/tiny-chat"


class _PrefersShorter(PreferenceModel):
    def __init__(self) -> None:
        self.seen: list[Comparison] = []

    async def __call__(self, comparison: Comparison) -> float:
        self.seen.append(comparison)
        a, b = comparison.completion_A[0]["content"], comparison.completion_B[0]["content"]
        return 0.0 if len(a) == len(b) else (1.0 if len(b) < len(a) else -1.0)


def test_pairs() -> None:
    assert get_pairs(3, TournamentPattern.ALL_PAIRS_ONE_WAY) == [(0, 1), (0, 2), (1, 2)]
    assert len(get_pairs(3, TournamentPattern.ALL_PAIRS_BOTH_WAYS)) == 6
    assert get_pairs_chunked(6, TournamentPattern.ALL_PAIRS_ONE_WAY, 3) == [
        (0, 1),
        (0, 2),
        (1, 2),
        (3, 4),
        (3, 5),
        (4, 5),
    ]
    with pytest.raises(ConfigurationError):
        get_pairs(2, "bogus")  # type: ignore[arg-type]


def _traj(renderer: Any, text: str, stop: bool) -> Trajectory:
    tokens = renderer.tokenizer.encode(text, add_special_tokens=False)
    if stop:
        tokens += (
            renderer.tokenizer.encode(renderer.get_stop_sequences()[0], add_special_tokens=False)
            if isinstance(renderer.get_stop_sequences()[0], str)
            else [renderer.get_stop_sequences()[0]]
        )
    tr = Transition(
        ob=ModelInput.from_ints([1]),
        ac=TokensWithLogprobs(tokens=tokens, maybe_logprobs=[0.0] * len(tokens)),
        reward=0.0,
        episode_done=True,
    )
    return Trajectory(transitions=[tr], final_ob=ModelInput.empty())


def test_group_rewards_are_mean_win_minus_loss_with_a_format_penalty(tmp_path: Path) -> None:
    renderer = get_renderer("role_colon", get_tokenizer(MODEL))
    pm = _PrefersShorter()
    builder = PairwisePreferenceGroupBuilder(
        convo_prefix=[{"role": "user", "content": "Say something."}],
        policy_renderer=renderer,
        tournament_pattern=TournamentPattern.ALL_PAIRS_BOTH_WAYS,
        preference_model=pm,
        num_envs=3,
        content_preprocessor=str.upper,
    )
    envs = asyncio.run(builder.make_envs())
    assert len(envs) == 3
    trajs = [_traj(renderer, "hi", True), _traj(renderer, "hello there", True), _traj(renderer, "hey", False)]
    out_html = tmp_path / "t.html"
    with logtree.init_trace("pref", path=out_html):
        rewards = asyncio.run(builder.compute_group_rewards(trajs, envs))
    assert len(pm.seen) == 6 and pm.seen[0].completion_A[0]["content"].isupper()
    wml = [m["win_minus_loss"] for _, m in rewards]
    assert wml[0] == pytest.approx(1.0) and wml[1] == pytest.approx(-1.0) and wml[2] == pytest.approx(0.0)
    assert [m["format"] for _, m in rewards] == [True, True, False]
    assert [r for r, _ in rewards] == pytest.approx([1.0, -1.0, -1.0])
    assert "Pairwise Comparisons" in out_html.read_text() and builder.logging_tags() == ["pair_pref"]


@configclass
class _Prompts(ComparisonDatasetBuilder):
    def get_train_and_test_datasets(self) -> tuple[Any, Any | None]:
        return [{"q": f"question {i}"} for i in range(5)], None

    def example_to_labeled_comparison(self, example: dict[str, Any]) -> LabeledComparison | None:
        convo = [{"role": "user", "content": example["q"]}]
        return LabeledComparison(Comparison(convo, [], []), "Tie")


def test_dataset_builder_makes_one_group_per_prompt() -> None:
    b = PairwisePreferenceRLDatasetBuilder(
        comparison_builder=_Prompts(),
        batch_size=2,
        policy_renderer_name="role_colon",
        policy_model_name=MODEL,
        group_size=3,
        preference_model_builder=_PrefersShorter,
    )
    ds, test = asyncio.run(b())
    assert test is None and len(ds) == 2
    groups = ds.get_batch(1)
    assert [g.convo_prefix[0]["content"] for g in groups] == ["question 2", "question 3"]  # type: ignore[attr-defined]
    assert all(g.num_envs == 3 for g in groups)  # type: ignore[attr-defined]
