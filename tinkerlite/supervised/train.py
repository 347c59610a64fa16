"""The pipelined supervised fine-tuning loop.

Step N+1's ``forward_backward`` and ``optim_step`` are submitted before step N's results are awaited
(``submit_ahead`` batches deep), so network latency overlaps server compute. Checkpoints are
submitted right after the step they follow and record the exact number of applied steps, which is
what makes resume exact (see :mod:`tinkerlite.checkpoint_utils`).
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..checkpoint_utils import PendingSave, _StepCheckpointer, get_last_checkpoint
from ..errors import ValidationError
from ..eval.evaluators import Evaluator, EvaluatorBuilder, SamplingClientEvaluator, TrainingClientEvaluator
from ..exceptions import ConfigurationError
from ..types import AdamParams
from ..utils.config import configclass, field, refuse_unsupported, validate
from ..utils.cost_estimation import CostTracker, TokenUsage, fetch_model_pricing
from ..utils.lr_scheduling import LRSchedule, compute_schedule_lr_multiplier
from ..utils.ml_log import MultiplexLogger, ProgressLine, setup_logging
from ..utils.session_naming import resolve_session_display_name
from .common import compute_bpb, compute_mean_nll
from .nll_evaluator import SamplerNLLEvaluator
from .types import SupervisedDatasetBuilder

__all__ = ["Config", "SubmittedBatch", "main", "run", "run_evals"]

logger = logging.getLogger(__name__)


@configclass
class Config:
    """The cookbook's ``supervised.train.Config``: same fields, order and defaults (a chz class with chz).

    tinkerlite additions at the end: ``warmup_steps``, ``api_key``, ``show_progress``. Cookbook fields
    whose feature tinkerlite lacks are accepted at their defaults; any other value is refused up front
    (see :func:`tinkerlite.utils.config.refuse_unsupported`).
    """

    log_path: str = field(munger=lambda _, s: str(Path(s).expanduser()))
    model_name: str
    recipe_name: str
    load_checkpoint_path: str | None = None
    renderer_name: str | None = None
    dataset_builder: SupervisedDatasetBuilder
    learning_rate: float = 1e-4
    lr_schedule: LRSchedule = "linear"
    num_epochs: int = 1
    lora_rank: int = 32
    base_url: str | None = None
    evaluator_builders: list[EvaluatorBuilder] = field(default_factory=list)
    infrequent_evaluator_builders: list[EvaluatorBuilder] = field(default_factory=list)
    save_every: int = 20
    save_every_tokens: int = 0
    save_every_seconds: float = 0.0
    eval_every: int = 10
    infrequent_eval_every: int = 100
    ttl_seconds: int | None = 604800
    rolling_save_every: int = 0
    rolling_ttl_seconds: int = 7200
    async_periodic_saves: bool = False
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    adam_eps: float = 1e-8
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    """Display name of the Tinker session; falls back to ``wandb_name``."""
    enable_trace: bool = False
    span_chart_every: int = 0
    max_steps: int | None = None
    submit_ahead: int = 4
    """Batches submitted ahead of the one being awaited (0 disables pipelining). 4, not the cookbook's 1: a
    step's result is known two round trips after its submission at the earliest (submit, then poll), so the
    server stays busy only while ``(submit_ahead + 1) * step time`` exceeds that; 4 covers 100 ms round trips
    down to ~50 ms steps (bench/README.md). Steps, metrics and checkpoints are the same at every depth."""
    # tinkerlite additions
    warmup_steps: int = 0
    api_key: str | None = None
    show_progress: bool = True

    @validate
    def _check_supported(self) -> None:
        refuse_unsupported(
            self,
            save_every_tokens=0,
            save_every_seconds=0.0,
            rolling_save_every=0,
            async_periodic_saves=False,
            enable_trace=False,
            span_chart_every=0,
        )


@dataclass
class SubmittedBatch:
    """A step whose ``forward_backward`` and ``optim_step`` are submitted but not yet resolved, with what
    its metrics row needs once they are: the evaluations ran before it was submitted (pre-step weights)."""

    fwd_bwd_future: Any
    optim_step_future: Any
    metrics: dict[str, int | float | str]
    data: list[Any]
    step: int
    epoch_idx: int
    batch_idx: int
    eval_metrics: dict[str, float] | None = None
    infrequent_eval_metrics: dict[str, float] | None = None
    num_tokens: int = 0
    """Σ ``datum.model_input.length`` over ``data``."""


async def run_evals(evaluators: list[Evaluator], training_client: Any, step: int) -> dict[str, float]:
    """Run ``evaluators`` on the current weights, in order; their metrics merged (their own key names).

    Called before step ``step`` is submitted, so it sees the weights after step ``step - 1``. A
    :class:`TrainingClientEvaluator` gets the training client; the first :class:`SamplingClientEvaluator`
    makes one sampling snapshot (``save_weights_and_get_sampling_client``) that all of them share. Any
    other object is a :class:`~tinkerlite.exceptions.ConfigurationError`, as in the cookbook.
    """
    metrics: dict[str, float] = {}
    sampling_client = None
    for evaluator in evaluators:
        if isinstance(evaluator, TrainingClientEvaluator):
            value: Any = evaluator(training_client)
        elif isinstance(evaluator, SamplingClientEvaluator):
            if sampling_client is None:
                sampling_client = await training_client.save_weights_and_get_sampling_client()
            value = evaluator(sampling_client)
        else:
            raise ConfigurationError(f"Unknown evaluator type: {type(evaluator)}")
        metrics.update(await value if inspect.isawaitable(value) else value)
    return metrics


def _resolve_lr(config: Config) -> float:
    if config.learning_rate is not None:
        return config.learning_rate
    try:
        from ..hyperparam_utils import get_lr

        return float(get_lr(config.model_name))
    except Exception:  # unknown model or module unavailable: the cookbook's default
        return 1e-4


def _next_position(epoch: int, batch: int, n_batches: int) -> tuple[int, int]:
    return (epoch, batch + 1) if batch + 1 < n_batches else (epoch + 1, 0)


def run(config: Config, service_client: Any | None = None) -> dict[str, Any]:
    """Train; returns a summary (steps run, first/last train NLL, final checkpoint paths)."""
    if config.submit_ahead < 0:
        raise ValidationError(f"must be >= 0, got {config.submit_ahead}", field="submit_ahead")
    if config.num_epochs < 1:
        raise ValidationError(f"must be >= 1, got {config.num_epochs}", field="num_epochs")
    resume = get_last_checkpoint(config.log_path)
    ml = setup_logging(
        config.log_path, config.wandb_project, config.wandb_name, config=config, do_configure_logging_module=False
    )
    learning_rate = _resolve_lr(config)

    owns_client = service_client is None
    if service_client is None:
        from ..client.service_client import ServiceClient

        service_client = ServiceClient(
            base_url=config.base_url,
            api_key=config.api_key,
            display_name=resolve_session_display_name(session_name=config.session_name, wandb_name=config.wandb_name),
        )
    try:
        return _train(config, service_client, resume, ml, learning_rate)
    finally:
        ml.close()
        if owns_client:
            service_client.close()


def _train(
    config: Config, service_client: Any, resume: Any, ml: MultiplexLogger, learning_rate: float
) -> dict[str, Any]:
    # The dataset is built and validated before the first request: a bad file costs no server work.
    dataset, test_dataset = config.dataset_builder()
    n_batches = len(dataset)
    if n_batches == 0:
        raise ValidationError("the dataset has no full batch", field="dataset_builder")
    total_steps = n_batches * config.num_epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)

    start_epoch, start_batch, elapsed_tokens = 0, 0, 0
    if resume is not None:
        start_epoch, start_batch = int(resume.epoch or 0), int(resume.batch or 0)
        resume_step = int(resume.get("step", start_epoch * n_batches + start_batch))
        elapsed_tokens = int(resume.get("elapsed_tokens", 0))
        if resume.final or resume_step >= total_steps:
            logger.info("%s already holds a final checkpoint; nothing to train", config.log_path)
            return _summary(0, total_steps, [], None, resume)

    user_metadata = {"recipe": config.recipe_name}
    if config.renderer_name:
        user_metadata["renderer_name"] = config.renderer_name
    # Rows past the restart point are re-run, so they go (all of them when no checkpoint exists yet).
    dropped = ml.truncate_metrics(resume_step if resume is not None else 0)
    if dropped:
        logger.info("dropped %d metrics rows of steps that will be re-run", dropped)
    if resume is not None:
        training_client = service_client.create_training_client_from_state_with_optimizer(resume.state_path).result()
        logger.info("resuming from %s at step %d", resume.state_path, resume_step)
    elif config.load_checkpoint_path:
        training_client = service_client.create_training_client_from_state(config.load_checkpoint_path).result()
    else:
        training_client = service_client.create_lora_training_client(
            base_model=config.model_name, rank=config.lora_rank, user_metadata=user_metadata
        ).result()
    tokenizer = training_client.get_tokenizer()

    evaluators = [b() for b in config.evaluator_builders]
    if test_dataset is not None:
        evaluators.append(SamplerNLLEvaluator.from_dataset(test_dataset, tokenizer=tokenizer))
    infrequent_evaluators = [b() for b in config.infrequent_evaluator_builders]
    ckpt = _StepCheckpointer(training_client, config.log_path, config.save_every, config.ttl_seconds)
    progress = ProgressLine(total_steps) if config.show_progress else None
    pending: collections.deque[tuple[SubmittedBatch, list[PendingSave]]] = collections.deque()
    last_finish = [time.monotonic()]
    submitted_tokens = elapsed_tokens  # tokens in every step submitted so far: what a save submitted now contains
    nll_history: list[float] = []
    cost_tracker = CostTracker(fetch_model_pricing(config.model_name), cumulative=TokenUsage(trained=elapsed_tokens))

    def evaluate(which: list[Any], step: int) -> dict[str, float]:
        return asyncio.run(run_evals(which, training_client, step))

    def submit(epoch: int, batch: int) -> tuple[SubmittedBatch, list[PendingSave]]:
        step = epoch * n_batches + batch
        lr = learning_rate * compute_schedule_lr_multiplier(config.lr_schedule, step, total_steps, config.warmup_steps)
        metrics: dict[str, Any] = {"epoch": epoch, "learning_rate": lr}
        data = dataset.get_batch(batch)
        # Sequenced after every earlier step's submissions, so the evaluations see pre-step weights.
        eval_metrics = infrequent = None
        if evaluators and config.eval_every > 0 and step % config.eval_every == 0:
            eval_metrics = evaluate(evaluators, step)
        if infrequent_evaluators and config.infrequent_eval_every > 0 and step % config.infrequent_eval_every == 0:
            infrequent = evaluate(infrequent_evaluators, step)
        fwd = training_client.forward_backward(data, loss_fn="cross_entropy")
        opt = training_client.optim_step(
            AdamParams(learning_rate=lr, beta1=config.adam_beta1, beta2=config.adam_beta2, eps=config.adam_eps)
        )
        nonlocal submitted_tokens
        num_tokens = sum(d.model_input.length for d in data)
        submitted_tokens += num_tokens
        saves = []
        applied = step + 1
        if ckpt.should_save(applied) and applied < total_steps:
            next_epoch, next_batch = _next_position(epoch, batch, n_batches)
            state = {"epoch": next_epoch, "batch": next_batch, "step": applied, "elapsed_tokens": submitted_tokens}
            saves.append(ckpt.submit_periodic(applied, state))
        submitted = SubmittedBatch(fwd, opt, metrics, data, step, epoch, batch, eval_metrics, infrequent, num_tokens)
        return submitted, saves

    def finish(s: SubmittedBatch, saves: list[PendingSave]) -> None:
        nonlocal elapsed_tokens
        out = s.fwd_bwd_future.result()
        opt = s.optim_step_future.result()
        metrics = s.metrics
        if getattr(opt, "metrics", None):
            metrics.update(opt.metrics)
        logprobs = [o["logprobs"] for o in out.loss_fn_outputs]
        weights = [d.loss_fn_inputs["weights"] for d in s.data]
        nll = compute_mean_nll(logprobs, weights)
        nll_history.append(nll)
        targets = [d.loss_fn_inputs["target_tokens"] for d in s.data]
        metrics.update(
            num_sequences=len(s.data),
            num_tokens=s.num_tokens,
            num_loss_tokens=sum(sum(1 for w in d.loss_fn_inputs["weights"].data if w > 0) for d in s.data),
            train_mean_nll=nll,
            train_mean_bpb=compute_bpb(logprobs, weights, targets, tokenizer),
            progress=min((s.step + 1) / total_steps, 1.0),
        )
        elapsed_tokens += s.num_tokens
        # Every token goes through forward_backward: trained = num_tokens; cumulative matches elapsed_tokens.
        metrics.update(cost_tracker.record_step(TokenUsage(trained=s.num_tokens)))
        for extra_metrics in (s.eval_metrics, s.infrequent_eval_metrics):
            if extra_metrics is not None:
                metrics.update(extra_metrics)
        now = time.monotonic()
        metrics["time/total"] = now - last_finish[0]  # wall time of this step in the pipeline, as the cookbook
        last_finish[0] = now
        # The step's row before its checkpoint record: a record for N applied steps then always has rows
        # 0..N-1 behind it, and a crash between the two only means re-running from the previous record.
        ml.log_metrics(metrics, step=s.step)
        for save in saves:
            save.finish_or_warn()
        if progress is not None:
            test = metrics.get("test/nll")
            extra = f"test/nll {test:.4f}" if isinstance(test, float) else ""
            usd = metrics.get("cost/cumulative_usd")
            progress.update(s.step, nll, s.num_tokens, extra + (f"  ~${usd:.4f}" if isinstance(usd, float) else ""))

    steps_run = 0
    done = False
    for epoch in range(start_epoch, config.num_epochs):
        dataset.set_epoch(seed=epoch)
        for batch in range(start_batch if epoch == start_epoch else 0, n_batches):
            if epoch * n_batches + batch >= total_steps:
                done = True
                break
            pending.append(submit(epoch, batch))
            steps_run += 1
            while len(pending) > config.submit_ahead:
                finish(*pending.popleft())
        if done:
            break
    while pending:
        finish(*pending.popleft())

    final_record = None
    eval_final: dict[str, float] = {}
    if steps_run:
        eval_final = evaluate(evaluators, total_steps) if evaluators else {}
        if infrequent_evaluators:
            eval_final.update(evaluate(infrequent_evaluators, total_steps))
        if eval_final:
            ml.log_metrics(eval_final, step=total_steps)
        final_record = ckpt.save_final(
            {"epoch": config.num_epochs, "batch": 0, "step": total_steps, "elapsed_tokens": elapsed_tokens}
        )
    summary = _summary(steps_run, total_steps, nll_history, training_client, final_record)
    summary.update(eval_final)
    return summary


def _summary(
    steps_run: int, total_steps: int, nll_history: list[float], training_client: Any, final_record: Any
) -> dict[str, Any]:
    finite = [x for x in nll_history if not math.isnan(x)]
    out: dict[str, Any] = {
        "steps_run": steps_run,
        "total_steps": total_steps,
        "first_train_nll": finite[0] if finite else math.nan,
        "last_train_nll": finite[-1] if finite else math.nan,
        "training_client": training_client,
    }
    if final_record is not None:
        out.update(state_path=final_record.state_path, sampler_path=final_record.sampler_path)
    return out


async def main(config: Config) -> dict[str, Any]:
    """``asyncio.run(train.main(config))`` as in the cookbook; the loop itself runs on a worker thread."""
    return await asyncio.to_thread(run, config)
