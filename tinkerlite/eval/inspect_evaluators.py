"""The cookbook's ``eval.inspect_evaluators``: inspect_ai tasks as a training-loop evaluator.

:class:`InspectEvaluatorBuilder` is the config (same fields, order and defaults as the cookbook's chz
class); calling it gives an :class:`InspectEvaluator`, which runs the tasks through inspect's
``eval_async`` on the current sampling client (via :class:`~tinkerlite.eval.inspect_utils.InspectAPIFromTinkerSampling`)
and returns ``{"<dataset>/<metric>": value}`` for each task's first scorer. Needs the ``inspect`` extra.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import tinkerlite as tinker

from .. import cli_utils
from ..exceptions import ConfigurationError
from ..utils.config import configclass
from ._inspect_gate import load
from .evaluators import SamplingClientEvaluator
from .inspect_utils import InspectAPIFromTinkerSampling

_inspect_ai, _model = load(__name__, "inspect_ai", "inspect_ai.model")

if TYPE_CHECKING:
    from typing import TypeAlias

    Tasks: TypeAlias = Any
else:
    Tasks = _inspect_ai.Tasks  # inspect's union: task name(s), Task object(s), file.py:task, ...

logger = logging.getLogger(__name__)


@configclass
class InspectEvaluatorBuilder:
    """What to evaluate (inspect ``tasks``: names, ``Task`` objects, ``file.py:task``) and how to sample."""

    tasks: Tasks
    renderer_name: str | None = None
    # The cookbook's TODO: model_name goes once the SDK's sampling client can give its tokenizer.
    model_name: str | None = None
    seed: int | None = None  # None: non-deterministic sampling
    verbose: bool = False  # log prompts and responses
    include_reasoning: bool = False  # keep thinking as inspect ContentReasoning (else text only)

    temperature: float = 1.0
    max_tokens: int = 1000
    top_p: float = 1.0
    top_k: int = -1  # -1: no top-k filtering
    num_choices: int = 1  # responses per prompt (majority voting, best-of-n)

    limit: int | None = None  # at most this many samples per task (None: all)
    debug_errors: bool = True
    log_dir: str | None = None  # None: cli_utils.runs_path("inspect-logs")
    max_connections: int = 512  # concurrent sampling requests
    log_level: str = "INFO"
    metadata: dict[str, str] | None = None  # stored in the inspect logs

    def __call__(self) -> SamplingClientEvaluator:
        return InspectEvaluator(self)


class InspectEvaluator(SamplingClientEvaluator):
    """Runs the builder's inspect tasks on a sampling client and returns their metrics."""

    def __init__(self, config: InspectEvaluatorBuilder) -> None:
        self.config = config

    async def __call__(self, sampling_client: tinker.SamplingClient) -> dict[str, float]:
        cfg = self.config
        if cfg.model_name is None:
            raise ConfigurationError("model_name must be set before running evaluation")
        if cfg.renderer_name is None:
            raise ConfigurationError("renderer_name must be set before running evaluation")
        api = InspectAPIFromTinkerSampling(
            renderer_name=cfg.renderer_name,
            model_name=cfg.model_name,
            sampling_client=sampling_client,
            verbose=cfg.verbose,
            include_reasoning=cfg.include_reasoning,
        )
        model = _model.Model(
            api=api,
            config=_model.GenerateConfig(
                temperature=cfg.temperature,
                max_tokens=cfg.max_tokens,
                top_p=cfg.top_p,
                top_k=cfg.top_k,
                seed=cfg.seed,
                num_choices=cfg.num_choices,
            ),
        )
        results = await _inspect_ai.eval_async(
            tasks=cfg.tasks,
            model=[model],
            limit=cfg.limit,
            debug_errors=cfg.debug_errors,
            retry_on_error=0,  # the client already retries
            fail_on_error=False,  # a sample the parser rejects should not end the eval
            log_dir=cfg.log_dir or cli_utils.runs_path("inspect-logs"),
            max_connections=cfg.max_connections,
            log_level=cfg.log_level,
            log_realtime=False,
            log_buffer=1000,
            metadata=cfg.metadata,
        )
        metrics = _metrics_of(results)
        logger.info(f"Inspect evaluation completed. Metrics: {metrics}")
        return metrics


def _metrics_of(results: Any) -> dict[str, float]:
    """``dataset/metric`` -> value for each task's first scorer (as the cookbook: later tasks of one
    dataset name overwrite earlier ones)."""
    metrics: dict[str, float] = {}
    for task_result in results:
        if task_result.results is None or task_result.results.scores is None:
            continue
        dataset = task_result.eval.dataset
        dataset_name = dataset.name if dataset is not None else "unknown"
        for metric_name, score in task_result.results.scores[0].metrics.items():
            metrics[f"{dataset_name}/{metric_name}"] = score.value
    return metrics
