"""The cookbook's exception hierarchy (``tinker_cookbook.exceptions``), under the same names and bases.

Each class also keeps the stdlib base the cookbook gives it (``ValueError``, ``RuntimeError``, ...), so
``except ValueError`` written against the cookbook still catches it. The root, :class:`TinkerCookbookError`,
additionally derives from :class:`tinkerlite.errors.TinkerliteError`, so tinkerlite's CLIs report these
as one clean line like every other tinkerlite error. The SDK's HTTP errors (``APIError`` ...) are separate
(``tinkerlite._exceptions``), as in the official stack. No class takes custom ``__init__`` arguments, so
all of them pickle (multiprocessing, distributed task frameworks).
"""

from __future__ import annotations

from .errors import TinkerliteError

__all__ = [
    "AllTrajectoriesFailedError",
    "BenchmarkNotFoundError",
    "CheckpointError",
    "ConfigurationError",
    "DataError",
    "DataFormatError",
    "DataValidationError",
    "EvalError",
    "EvalGradingError",
    "EvalTimeoutError",
    "RendererError",
    "SandboxError",
    "TinkerCookbookError",
    "TrainingError",
    "WeightsAdapterError",
    "WeightsDownloadError",
    "WeightsError",
    "WeightsMergeError",
]


class TinkerCookbookError(TinkerliteError):
    """Base of every error raised by cookbook-level code (not the SDK's HTTP errors)."""


class ConfigurationError(TinkerCookbookError, ValueError):
    """A configuration value is invalid or missing (unknown model, bad hyperparameter, ...)."""


class DataError(TinkerCookbookError, ValueError):
    """Base of training/evaluation data errors."""


class DataFormatError(DataError):
    """Data is structurally malformed (a JSONL line without ``messages``, ...)."""


class DataValidationError(DataError):
    """Data is well-formed but breaks a logical constraint (a streaming dataset asked to seek back, ...)."""


class RendererError(TinkerCookbookError, ValueError):
    """A renderer cannot be found, or messages cannot be rendered or parsed."""


class TrainingError(TinkerCookbookError, RuntimeError):
    """Base of errors inside an SL, RL, DPO or distillation loop."""


class CheckpointError(TrainingError):
    """Saving, loading or resuming a checkpoint failed."""


class AllTrajectoriesFailedError(TrainingError):
    """Every trajectory of a rollout group failed; the group is skipped rather than the run stopped."""


class WeightsError(TinkerCookbookError):
    """Base of weight download / merge / export errors (the subclasses carry the stdlib base)."""


class WeightsDownloadError(WeightsError, RuntimeError):
    """Weights could not be downloaded (service unreachable, bad path, corrupt archive)."""


class WeightsMergeError(WeightsError, ValueError):
    """A LoRA adapter does not fit its base model (shapes, missing keys)."""


class WeightsAdapterError(WeightsError, ValueError):
    """A Tinker adapter cannot be converted to PEFT format."""


class SandboxError(TinkerCookbookError, RuntimeError):
    """A code-execution sandbox failed."""


class EvalError(TinkerCookbookError, RuntimeError):
    """Base of benchmark-evaluation errors; the runner records them per example (reward 0)."""


class EvalTimeoutError(EvalError, TimeoutError):
    """One evaluation example ran past its time limit."""


class EvalGradingError(EvalError):
    """The grader could not score a response."""


class BenchmarkNotFoundError(EvalError, KeyError):
    """The requested benchmark is not registered (and no module of that name exists)."""
