"""Reinforcement learning: environments, rollouts, advantages, KL penalty, training loops.

Modules (the cookbook's layout): :mod:`.types` (Env, Trajectory, ... what environments are written
against), :mod:`.rollouts` (concurrent rollouts, error policies, turn limits), :mod:`.rollout_strategy`
(fail-fast / retry / minimum-viable-group collection), :mod:`.data_processing` (advantages, datums),
:mod:`.metrics` (KL metrics and penalty), :mod:`.metric_util` (trajectory metrics, test-set evaluator),
:mod:`.problem_env` (question/answer envs), :mod:`.dataset_utils` and :mod:`.interleaved` (multi-epoch
and multi-domain datasets), :mod:`.grading` (numeric grader), :mod:`.envs` (shipped environments),
:mod:`.train` (sync and async loops), :mod:`.cli` (``tinkerlite rl``). The names below are the
cookbook's ``tinker_cookbook.rl`` exports.
"""

from .dataset_utils import EpochCycledRLDataset, cycle_permutation, epoch_batch_index
from .interleaved import InterleavedRLDatasetBuilder
from .rollout_strategy import FailFast, RetryOnFailure, RolloutStrategy
from .types import (
    Action,
    ActionExtra,
    Env,
    EnvGroupBuilder,
    Logs,
    Metrics,
    Observation,
    RLDataset,
    RLDatasetBuilder,
    RolloutError,
    StepResult,
    Trajectory,
    TrajectoryGroup,
    Transition,
)

__all__ = [
    "Action",
    "ActionExtra",
    "Env",
    "EnvGroupBuilder",
    "EpochCycledRLDataset",
    "FailFast",
    "InterleavedRLDatasetBuilder",
    "Logs",
    "Metrics",
    "Observation",
    "RLDataset",
    "RLDatasetBuilder",
    "RetryOnFailure",
    "RolloutError",
    "RolloutStrategy",
    "StepResult",
    "Trajectory",
    "TrajectoryGroup",
    "Transition",
    "cycle_permutation",
    "epoch_batch_index",
]
