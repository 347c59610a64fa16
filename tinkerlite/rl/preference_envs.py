"""RL from pairwise preferences (the cookbook's ``rl.preference_envs``): a preference model judges tournaments.

Each group samples ``num_envs`` completions of one prompt. Completions are compared in small tournaments
(``matchup_group_size`` at a time, ``all_pairs_both_ways`` or ``all_pairs_one_way``) by a
:class:`~tinkerlite.preference.types.PreferenceModel` (``-1`` prefers A, ``1`` prefers B); a completion's
reward is its mean win-minus-loss over its matchups, minus 1 when it did not end with the renderer's stop
sequence. The prompt, every completion and every matchup go to the logtree transcript.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..completers import StopCondition
from ..exceptions import ConfigurationError
from ..preference.preference_datasets import ComparisonDatasetBuilder
from ..preference.preference_models import PreferenceModel
from ..preference.types import Comparison, LabeledComparison
from ..types import ModelInput
from ..utils import logtree
from ..utils.config import configclass
from ..utils.logtree_formatters import ConversationFormatter
from .types import (
    Action,
    ActionExtra,
    Env,
    EnvGroupBuilder,
    Metrics,
    Observation,
    RLDataset,
    RLDatasetBuilder,
    StepResult,
    Trajectory,
)

__all__ = [
    "PairwisePreferenceDataset",
    "PairwisePreferenceGroupBuilder",
    "PairwisePreferenceRLDatasetBuilder",
    "PreferenceEnv",
    "TournamentPattern",
    "get_pairs",
    "get_pairs_chunked",
]

logger = logging.getLogger(__name__)


class PreferenceEnv(Env):
    """One completion of ``convo_prefix``; its reward comes from the group's tournament (step gives 0)."""

    def __init__(self, convo_prefix: list[Any], policy_renderer: Any) -> None:
        self.convo_prefix = convo_prefix
        self.policy_renderer = policy_renderer

    @property
    def stop_condition(self) -> StopCondition:
        stop: StopCondition = self.policy_renderer.get_stop_sequences()
        return stop

    async def initial_observation(self) -> tuple[Observation, StopCondition]:
        return self.policy_renderer.build_generation_prompt(self.convo_prefix), self.stop_condition

    async def step(self, action: Action, *, extra: ActionExtra | None = None) -> StepResult:
        return StepResult(
            reward=0,
            episode_done=True,
            next_observation=ModelInput.empty(),
            next_stop_condition=self.stop_condition,
            metrics={},
        )


class TournamentPattern(str, Enum):
    ALL_PAIRS_BOTH_WAYS = "all_pairs_both_ways"
    ALL_PAIRS_ONE_WAY = "all_pairs_one_way"


def get_pairs(n: int, pattern: TournamentPattern) -> list[tuple[int, int]]:
    """Ordered pairs (both orders) or unordered pairs (``i < j``) of ``range(n)``."""
    if pattern == TournamentPattern.ALL_PAIRS_BOTH_WAYS:
        return [(i, j) for i in range(n) for j in range(n) if i != j]
    if pattern == TournamentPattern.ALL_PAIRS_ONE_WAY:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    raise ConfigurationError(f"Invalid tournament pattern: {pattern}")


def get_pairs_chunked(n: int, pattern: TournamentPattern, chunk_size: int) -> list[tuple[int, int]]:
    """:func:`get_pairs` within consecutive chunks of ``chunk_size`` (no O(n²) matchups for large groups)."""
    out = []
    for start in range(0, n, chunk_size):
        out += [(start + i, start + j) for i, j in get_pairs(min(start + chunk_size, n) - start, pattern)]
    return out


@dataclass(frozen=True)
class PairwisePreferenceGroupBuilder(EnvGroupBuilder):
    convo_prefix: list[Any]
    policy_renderer: Any
    tournament_pattern: TournamentPattern
    preference_model: PreferenceModel
    num_envs: int
    content_preprocessor: Callable[[str], str] | None = None  # e.g. strip <thinking> before judging
    matchup_group_size: int = 4
    eval_target_completion_A: list[Any] | None = None

    async def make_envs(self) -> Sequence[Env]:
        return [PreferenceEnv(self.convo_prefix, self.policy_renderer) for _ in range(self.num_envs)]

    def _preprocess_message(self, message: Any) -> Any:
        if self.content_preprocessor is None:
            return message
        from ..renderers import get_text_content

        return {**message, "content": self.content_preprocessor(get_text_content(message))}

    def get_response_message(self, trajectory: Trajectory) -> tuple[list[Any], bool]:
        """The parsed completion, and whether it ended with the stop sequence (the format reward)."""
        message, termination = self.policy_renderer.parse_response(trajectory.transitions[0].ac.tokens)
        return [message], bool(termination.is_stop_sequence)

    def comparison_reward_for_second_messages(self, message_i: list[Any], message_j: list[Any]) -> Comparison:
        return Comparison(
            prompt_conversation=self.convo_prefix,
            completion_A=[self._preprocess_message(m) for m in message_i],
            completion_B=[self._preprocess_message(m) for m in message_j],
        )

    @logtree.scope_header_decorator
    async def compute_group_rewards(
        self, trajectory_group: list[Trajectory], env_group: Sequence[Env]
    ) -> list[tuple[float, Metrics]]:
        if not all(len(t.transitions) == 1 for t in trajectory_group):
            raise ValueError("pairwise preference groups are single-turn")
        responses = [self.get_response_message(t) for t in trajectory_group]
        with logtree.scope_header("Prompt"):
            logtree.log_formatter(ConversationFormatter(messages=self.convo_prefix))
        for idx, (messages, valid) in enumerate(responses):
            with logtree.scope_header(f"Completion {idx}"):
                logtree.log_formatter(ConversationFormatter(messages=messages))
                logtree.log_text(f"Valid format: {valid}")
        pairs = get_pairs_chunked(len(responses), self.tournament_pattern, self.matchup_group_size)
        logtree.log_text(f"Got {len(trajectory_group)} trajectories, doing {len(pairs)} pairwise matchups.")
        with logtree.scope_header("Pairwise Comparisons"):
            rewards = [
                await self.preference_model(
                    self.comparison_reward_for_second_messages(responses[i][0], responses[j][0])
                )
                for i, j in pairs
            ]
            for idx, ((i, j), r) in enumerate(zip(pairs, rewards, strict=True)):
                logtree.log_text(f"Matchup {idx}: ({i} vs {j}) — Reward: {r:.2f}")
        score = [0.0] * len(responses)
        count = [0] * len(responses)
        for (i, j), r in zip(pairs, rewards, strict=True):
            score[j] += r
            score[i] -= r
            count[i] += 1
            count[j] += 1
        out: list[tuple[float, Metrics]] = []
        for s, c, (_, valid) in zip(score, count, responses, strict=True):
            wml = s / c if c > 0 else 0.0
            out.append((wml + (float(valid) - 1.0), {"win_minus_loss": wml, "format": valid}))
        return out

    def logging_tags(self) -> list[str]:
        return ["pair_pref"]


class PairwisePreferenceDataset(RLDataset):
    """``batch_size`` prompts per batch from a comparison dataset's train split; one group per prompt."""

    def __init__(
        self,
        comparison_builder: ComparisonDatasetBuilder,
        renderer: Any,
        batch_size: int,
        preference_model: PreferenceModel,
        tournament_pattern: TournamentPattern = TournamentPattern.ALL_PAIRS_BOTH_WAYS,
        group_size: int = 4,
        content_preprocessor: Callable[[str], str] | None = None,
    ) -> None:
        self.comparison_builder = comparison_builder
        self.renderer = renderer
        self.batch_size = batch_size
        self.preference_model = preference_model
        self.train_dataset, _ = comparison_builder.get_train_and_test_datasets()
        self.tournament_pattern = tournament_pattern
        self.group_size = group_size
        self.content_preprocessor = content_preprocessor

    def _rows(self, index: int) -> Any:
        lo, hi = index * self.batch_size, (index + 1) * self.batch_size
        select = getattr(self.train_dataset, "select", None)
        return select(range(lo, hi)) if callable(select) else self.train_dataset[lo:hi]

    def get_batch(self, index: int) -> list[EnvGroupBuilder]:
        lcs = [self.comparison_builder.example_to_labeled_comparison(row) for row in self._rows(index)]
        return [self._labeled_comparison_to_env_group(lc) for lc in lcs if lc is not None]

    def _labeled_comparison_to_env_group(self, lc: LabeledComparison) -> EnvGroupBuilder:
        return PairwisePreferenceGroupBuilder(
            convo_prefix=lc.comparison.prompt_conversation,
            policy_renderer=self.renderer,
            preference_model=self.preference_model,
            tournament_pattern=self.tournament_pattern,
            num_envs=self.group_size,
            content_preprocessor=self.content_preprocessor,
        )

    def __len__(self) -> int:
        return len(self.train_dataset) // self.batch_size


@configclass
class PairwisePreferenceRLDatasetBuilder(RLDatasetBuilder):
    """The prompts of ``comparison_builder``, sampled ``group_size`` times and judged pairwise."""

    comparison_builder: ComparisonDatasetBuilder
    batch_size: int
    policy_renderer_name: str
    policy_model_name: str
    group_size: int
    preference_model_builder: Callable[[], PreferenceModel]
    tournament_pattern: TournamentPattern = TournamentPattern.ALL_PAIRS_BOTH_WAYS
    content_preprocessor: Callable[[str], str] | None = None

    async def __call__(self) -> tuple[PairwisePreferenceDataset, None]:
        from ..renderers import get_renderer
        from ..tokenizers import get_tokenizer

        renderer = get_renderer(self.policy_renderer_name, get_tokenizer(self.policy_model_name))
        return PairwisePreferenceDataset(
            comparison_builder=self.comparison_builder,
            renderer=renderer,
            batch_size=self.batch_size,
            preference_model=self.preference_model_builder(),
            tournament_pattern=self.tournament_pattern,
            group_size=self.group_size,
            content_preprocessor=self.content_preprocessor,
        ), None
