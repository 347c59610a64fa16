"""Benchmark types (the cookbook's ``eval/benchmarks/_types.py``): configs, stored trajectories, results.

A benchmark is a :class:`BenchmarkBuilder` that makes one RL ``Env`` per example; the same envs can train
and evaluate. Stored trajectories are self-contained JSONL rows (decoded text, not tokens), so a run can be
inspected, resumed and regraded without the model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from ...rl.types import Env

__all__ = [
    "METRIC_CONTEXT_OVERFLOW",
    "METRIC_MAX_TOKENS_REACHED",
    "BenchmarkBuilder",
    "BenchmarkConfig",
    "BenchmarkResult",
    "BenchmarkResultDict",
    "Logs",
    "Metrics",
    "PassAtKScores",
    "StoredTrajectory",
    "StoredTrajectoryDict",
    "StoredTurn",
    "StoredTurnDict",
    "TurnRole",
]

#: Numeric per-example values, aggregated across examples (``{"correct": 1.0}``).
Metrics = dict[str, float | int]
#: Per-example diagnostics (expected/extracted answer, example id), kept per trajectory, never aggregated.
Logs = dict[str, Any]
#: k -> unbiased pass@k estimate (only with ``num_samples > 1``).
PassAtKScores = dict[int, float]
METRIC_MAX_TOKENS_REACHED = "max_tokens_reached"
METRIC_CONTEXT_OVERFLOW = "context_overflow"
TurnRole = Literal["user", "assistant", "environment", "grader"]


class StoredTurnDict(TypedDict):
    role: TurnRole
    content: str
    token_count: int
    metadata: dict[str, Any]


class StoredTrajectoryDict(TypedDict):
    idx: int
    benchmark: str
    example_id: str
    turns: list[StoredTurnDict]
    reward: float
    metrics: Metrics
    logs: Logs
    error: str | None
    time_seconds: float


class BenchmarkResultDict(TypedDict):
    name: str
    score: float
    num_examples: int
    num_correct: int
    num_errors: int
    num_truncated: int
    metrics: Metrics
    time_seconds: float
    pass_at_k: dict[str, float]  # JSON keys are strings


def _positive(name: str, value: float | None, *, allow_zero: bool = False, optional: bool = False) -> None:
    if value is None and optional:
        return
    if value is None or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}{' when set' if optional else ''}, "
                         f"got {value}")


@dataclass
class BenchmarkConfig:
    """Runtime settings of a benchmark run: limits, concurrency, generation, storage, grading hooks."""

    max_examples: int | None = None
    concurrency: int = 64
    agent_concurrency: int = 8
    timeout_seconds: float = 300
    max_trajectory_tokens: int | None = None
    max_generation_tokens: int | None = None
    max_tokens: int = 32768
    temperature: float = 0.6
    context_window: int | None = None
    save_dir: str | None = None
    num_samples: int = 1
    judge_sampling_client: Any | None = None
    judge_renderer: Any | None = None
    sandbox_factory: Callable[[], Any] | None = None
    system_prompt: str | None = None
    grade_fn: Callable[[str, Logs], float] | None = None
    """Replaces the benchmark's grader: ``(decoded response, logs) -> reward``."""

    @classmethod
    def for_model(cls, model_name: str, **kwargs: Any) -> BenchmarkConfig:
        """A config with the cookbook's recommended ``max_tokens`` / ``timeout_seconds`` / ``context_window``
        for a Tinker model (``kwargs`` override any field); ``ValueError`` listing the known models otherwise."""
        from ._model_defaults import MODEL_EVAL_DEFAULTS

        if model_name not in MODEL_EVAL_DEFAULTS:
            raise ValueError(
                f"Unknown model '{model_name}'. "
                f"Available: {sorted(MODEL_EVAL_DEFAULTS.keys())}. "
                f"Use BenchmarkConfig() directly and set max_tokens/timeout_seconds manually."
            )
        d = MODEL_EVAL_DEFAULTS[model_name]
        return cls(
            max_tokens=kwargs.pop("max_tokens", int(d["max_tokens"])),
            timeout_seconds=kwargs.pop("timeout_seconds", float(d["timeout_seconds"])),
            context_window=kwargs.pop("context_window", int(d.get("context_window", 0)) or None),
            **kwargs,
        )

    def __post_init__(self) -> None:
        _positive("concurrency", self.concurrency)
        _positive("agent_concurrency", self.agent_concurrency)
        _positive("timeout_seconds", self.timeout_seconds)
        _positive("max_tokens", self.max_tokens)
        _positive("temperature", self.temperature, allow_zero=True)
        _positive("max_examples", self.max_examples, optional=True)
        _positive("num_samples", self.num_samples)
        _positive("context_window", self.context_window, optional=True)


@dataclass
class StoredTurn:
    """One turn of a stored trajectory, as decoded text."""

    role: TurnRole
    content: str
    token_count: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoredTrajectory:
    """One evaluated example, one line of ``trajectories.jsonl``."""

    idx: int
    benchmark: str
    example_id: str = ""
    turns: list[StoredTurn] = field(default_factory=list)
    reward: float = 0.0
    metrics: Metrics = field(default_factory=dict)
    logs: Logs = field(default_factory=dict)
    error: str | None = None
    time_seconds: float = 0.0

    def to_dict(self) -> StoredTrajectoryDict:
        return StoredTrajectoryDict(
            idx=self.idx,
            benchmark=self.benchmark,
            example_id=self.example_id,
            turns=[StoredTurnDict(role=t.role, content=t.content, token_count=t.token_count, metadata=t.metadata)
                   for t in self.turns],
            reward=self.reward,
            metrics=self.metrics,
            logs=self.logs,
            error=self.error,
            time_seconds=self.time_seconds,
        )

    @classmethod
    def from_dict(cls, d: StoredTrajectoryDict | dict[str, Any]) -> StoredTrajectory:
        """Rows written by older versions may lack newer keys (``example_id``); those get defaults."""
        return cls(
            idx=d["idx"],
            benchmark=d["benchmark"],
            example_id=d.get("example_id", ""),
            turns=[StoredTurn(role=t["role"], content=t["content"], token_count=t.get("token_count", 0),
                              metadata=t.get("metadata", {})) for t in d.get("turns", [])],
            reward=d.get("reward", 0.0),
            metrics=d.get("metrics", {}),
            logs=d.get("logs", {}),
            error=d.get("error"),
            time_seconds=d.get("time_seconds", 0.0),
        )


@dataclass
class BenchmarkResult:
    """Aggregate of one run. ``num_examples = correct + wrong + truncated + errors``; ``score`` counts
    truncated and errored examples as 0, ``score_completed`` leaves them out."""

    name: str
    score: float
    num_examples: int
    num_correct: int
    num_errors: int = 0
    num_truncated: int = 0
    metrics: Metrics = field(default_factory=dict)
    time_seconds: float = 0.0
    pass_at_k: PassAtKScores = field(default_factory=dict)

    @property
    def num_completed(self) -> int:
        return self.num_examples - self.num_errors - self.num_truncated

    @property
    def score_completed(self) -> float:
        return self.num_correct / self.num_completed if self.num_completed > 0 else 0.0

    def to_dict(self) -> BenchmarkResultDict:
        return BenchmarkResultDict(
            name=self.name, score=self.score, num_examples=self.num_examples, num_correct=self.num_correct,
            num_errors=self.num_errors, num_truncated=self.num_truncated, metrics=self.metrics,
            time_seconds=self.time_seconds, pass_at_k={str(k): v for k, v in self.pass_at_k.items()},
        )

    @classmethod
    def from_dict(cls, d: BenchmarkResultDict | dict[str, Any]) -> BenchmarkResult:
        return cls(
            name=d["name"], score=d["score"], num_examples=d["num_examples"], num_correct=d["num_correct"],
            num_errors=d.get("num_errors", 0), num_truncated=d.get("num_truncated", 0),
            metrics=d.get("metrics", {}), time_seconds=d.get("time_seconds", 0.0),
            pass_at_k={int(k): v for k, v in d.get("pass_at_k", {}).items()},
        )


class BenchmarkBuilder(ABC):
    """A benchmark: one single-use ``Env`` per example (``step`` grades; single-turn envs end after one)."""

    name: str
    multi_turn: bool = False
    """Multi-turn benchmarks run under ``agent_concurrency`` instead of ``concurrency``."""
    recommended_timeout: float = 300
    recommended_system_prompt: str | None = None
    """Used when ``BenchmarkConfig.system_prompt`` is None."""
    experimental: bool = False
    requires_sandbox: bool = False
    requires_judge: bool = False

    @abstractmethod
    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        """One Env per evaluation example."""

    def aggregate(self, rewards: list[float], metrics_list: list[Metrics]) -> BenchmarkResult:
        """Default: accuracy = fraction of examples with reward > 0."""
        num_correct = sum(1 for r in rewards if r > 0)
        return BenchmarkResult(
            name=self.name,
            score=num_correct / len(rewards) if rewards else 0.0,
            num_examples=len(rewards),
            num_correct=num_correct,
            metrics={},
        )
