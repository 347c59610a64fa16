"""RL training loops: synchronous (sample → train → new sampler, every step) and asynchronous off-policy.

The step is the cookbook's (``rl/train.py``): roll out a batch of env groups with the current sampler,
centre rewards within groups, assemble datums, optionally fold in a KL penalty against a reference
model, then ``num_substeps`` × (``forward_backward`` + ``optim_step``) — the next substep submitted
before the previous one is awaited — and a fresh sampler from the new weights.

Checkpoints follow :mod:`tinkerlite.checkpoint_utils`: a record says how many steps its weights contain
(``step``) and which batch comes next (``batch``); a resumed run truncates ``metrics.jsonl`` to that
step and continues. In the sync loop batches and sampling seeds depend only on the step, so a resumed
run repeats what the uninterrupted one would have done. The async loop resumes at the recorded batch;
which rollouts land in which step depends on timing there, as in the cookbook.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..checkpoint_utils import _StepCheckpointer, get_last_checkpoint
from ..completers import TinkerTokenCompleter
from ..errors import ValidationError
from ..types import AdamParams, Datum
from ..utils.config import configclass, field, refuse_unsupported, validate
from ..utils.cost_estimation import CostTracker, TokenUsage, fetch_model_pricing, usage_from_state
from ..utils.ml_log import MultiplexLogger, ProgressLine, setup_logging
from ..utils.session_naming import resolve_session_display_name

# Token accounting, re-exported at its cookbook path (``X as X``: an explicit re-export).
from ._cost_accounting import DISCARDED_WORK_LOG_INTERVAL_SECONDS as DISCARDED_WORK_LOG_INTERVAL_SECONDS
from ._cost_accounting import DiscardedWorkLog as DiscardedWorkLog
from ._cost_accounting import count_discarded_rollout as count_discarded_rollout
from ._cost_accounting import drop_constant_reward_group as drop_constant_reward_group
from ._cost_accounting import rollout_usage as rollout_usage
from ._cost_accounting import training_usage as training_usage
from ._train_loops import _async_loop, _sync_loop
from .data_processing import assemble_training_data, compute_advantages, remove_constant_reward_groups, remove_mask
from .metric_util import compute_trajectory_metrics
from .metrics import (
    compute_kl_sample_train,
    compute_post_kl,
    incorporate_kl_penalty,
)
from .rollout_limits import TerminationRewardPolicy
from .rollout_logging import RolloutSummaryGroup, decoder_from_client, export_iteration_rollouts
from .rollout_presets import default_rollout_config_for_model, default_rollout_strategy_for_model
from .rollout_strategy import RolloutStrategy, rollout_strategy_from_config
from .rollouts import ERROR_POLICIES, ErrorPolicy, RolloutErrorCounter, gather_group_rollouts
from .stream_minibatch import StreamMinibatchConfig
from .types import EnvGroupBuilder, RLDataset, RLDatasetBuilder, TrajectoryGroup

__all__ = ["AsyncConfig", "Config", "KLReferenceConfig", "StreamMinibatchConfig", "main", "run"]

logger = logging.getLogger(__name__)
LOSS_FNS = ("importance_sampling", "ppo", "cispo", "dro", "gspo", "stable_reinforce")


@configclass
class KLReferenceConfig:
    """The model the KL penalty is measured against (default: the training model's base model)."""

    base_model: str
    load_checkpoint_path: str | None = None


@configclass
class AsyncConfig:
    """Off-policy training: rollouts keep running on the newest sampler while the trainer trains.

    A group sampled more than ``max_steps_off_policy`` steps before the step that would train on it is
    discarded and its env group re-queued; a step trains once ``groups_per_batch`` fresh groups are in.
    Async runs train with ``loss_fn`` (the cookbook's default, ``stable_reinforce``), not ``Config.loss_fn``.
    """

    max_steps_off_policy: int
    groups_per_batch: int
    loss_fn: str = "stable_reinforce"

    @validate
    def _check(self) -> None:
        if self.max_steps_off_policy < 0 or self.groups_per_batch < 1:
            raise ValidationError(
                f"needs max_steps_off_policy >= 0 and groups_per_batch >= 1, got "
                f"{self.max_steps_off_policy} and {self.groups_per_batch}",
                field="async_config",
            )


@configclass
class Config:
    """The cookbook's ``rl.train.Config``: same fields, order and defaults (a chz class with chz).

    tinkerlite additions at the end (``api_key``, ``kl_reference_model``, ``error_policy``, ``max_turns``,
    ``seed``, ``include_provenance``, ``show_progress``). Cookbook fields whose feature tinkerlite lacks are
    accepted at their defaults; any other value is refused up front, naming the field.
    """

    learning_rate: float
    dataset_builder: RLDatasetBuilder
    model_name: str
    recipe_name: str
    max_tokens: int
    log_path: str = field(munger=lambda _, s: str(Path(s).expanduser()))
    eval_every: int = 20
    save_every: int = 20
    evaluator_builders: list[Any] = field(default_factory=list)
    """Extra evaluators (``tinkerlite.eval.evaluators``), run with the test set every ``eval_every`` steps."""
    load_checkpoint_path: str | None = None
    renderer_name: str | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    kl_penalty_coef: float = 0.0
    kl_discount_factor: float = 0.0
    kl_reference_config: KLReferenceConfig | None = None
    loss_fn: str = "importance_sampling"
    loss_fn_config: dict[str, Any] | None = None
    num_substeps: int = 1
    lora_rank: int = 32
    temperature: float = 1.0
    compute_post_kl: bool = False
    remove_constant_reward_groups: bool = False
    rollout_error_tolerance: Any = None
    """Cookbook rollout-retry strategy; tinkerlite's equivalent is ``error_policy`` (None/False only)."""
    termination: Any = None
    enable_trace: bool = False
    span_chart_every: int = 0
    async_config: AsyncConfig | None = None
    stream_minibatch_config: StreamMinibatchConfig | None = None
    base_url: str | None = None
    ttl_seconds: int | None = 604800
    rolling_save_every: int = 0
    rolling_ttl_seconds: int = 7200
    num_groups_to_log: int = 4
    rollout_json_export: bool = True
    num_epochs: int = 1
    max_steps: int | None = None
    # tinkerlite additions
    api_key: str | None = None
    kl_reference_model: str | None = None
    """Shorthand for ``kl_reference_config=KLReferenceConfig(base_model=...)``."""
    error_policy: ErrorPolicy = "fail_fast"
    """``fail_fast``: a rollout error stops the run. ``drop``: drop the failed trajectory, count it, go on."""
    max_turns: int | None = None
    """Turn limit per episode (``stop/max_turns``); None: the env decides."""
    seed: int | None = 0
    """LoRA init and sampling seeds (each step's requests get seeds derived from it); None: fresh entropy."""
    include_provenance: bool = True
    show_progress: bool = True

    @validate
    def _check_supported(self) -> None:
        if self.rollout_error_tolerance not in (None, False):
            raise ValidationError(
                f"{self.rollout_error_tolerance!r}: rollout retry strategies are not implemented; "
                "use error_policy='drop' to drop failed rollouts",
                field="Config.rollout_error_tolerance",
            )
        refuse_unsupported(self, enable_trace=False, span_chart_every=0, rolling_save_every=0)
        if self.num_epochs < 1:
            raise ValidationError(f"must be >= 1, got {self.num_epochs}", field="Config.num_epochs")
        refuse_unsupported(self, stream_minibatch_config=None)  # until the streaming loop exists

    def effective_termination(self) -> TerminationRewardPolicy | None:
        """The termination policy this run trains with: ``termination``, else the model's default
        (Inkling models: the agentic grade-then-clamp policy; others: none)."""
        if self.termination is not None:
            policy: TerminationRewardPolicy = self.termination
            return policy
        return default_rollout_config_for_model(self.model_name).termination

    def effective_rollout_strategy(self) -> RolloutStrategy:
        """The group rollout strategy: ``rollout_error_tolerance`` when set, else the model's default."""
        if self.rollout_error_tolerance is None:
            return default_rollout_strategy_for_model(self.model_name)
        return rollout_strategy_from_config(self.rollout_error_tolerance)

    def training_loss_fn(self) -> str:
        """The loss this run trains with: ``async_config.loss_fn`` for async runs, ``loss_fn`` otherwise."""
        return self.async_config.loss_fn if self.async_config is not None else self.loss_fn

    def records_stability_info(self) -> bool:
        """Whether sampling must record the information ``stable_reinforce`` trains on."""
        return self.training_loss_fn() == "stable_reinforce"

    def kl_reference_base_model(self) -> str:
        """Base model of the KL reference: ``kl_reference_config``, ``kl_reference_model``, else ``model_name``."""
        if self.kl_reference_config is not None:
            return self.kl_reference_config.base_model
        return self.kl_reference_model or self.model_name


async def _resolved(x: Any) -> Any:
    """Client calls may hand back a future of the client (tinkerlite) or the client itself (official SDK)."""
    return await x if inspect.isawaitable(x) else x


def _validate(config: Config) -> None:
    loss_field = "async_config.loss_fn" if config.async_config is not None else "loss_fn"
    if config.training_loss_fn() not in LOSS_FNS:
        raise ValidationError(
            f"must be one of {', '.join(LOSS_FNS)}; got {config.training_loss_fn()!r}", field=loss_field
        )
    if config.error_policy not in ERROR_POLICIES:
        raise ValidationError(f"must be fail_fast or drop; got {config.error_policy!r}", field="error_policy")
    if config.num_substeps < 1:
        raise ValidationError(f"must be >= 1, got {config.num_substeps}", field="num_substeps")
    if config.max_tokens < 1:
        raise ValidationError(f"must be >= 1, got {config.max_tokens}", field="max_tokens")
    if config.async_config is not None:
        if config.async_config.max_steps_off_policy < 0 or config.async_config.groups_per_batch < 1:
            raise ValidationError("max_steps_off_policy must be >= 0 and groups_per_batch >= 1", field="async_config")


class _EpochCycled(RLDataset):
    """``num_epochs`` passes over ``inner``: batch ``i`` is ``inner``'s batch ``i % len(inner)`` (the cookbook's
    ``EpochCycledRLDataset`` without a shuffle seed)."""

    def __init__(self, inner: RLDataset, num_epochs: int) -> None:
        self.inner = inner
        self.num_epochs = num_epochs

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range (dataset has {len(self)} batches)")
        return self.inner.get_batch(index % len(self.inner))

    def __len__(self) -> int:
        return len(self.inner) * self.num_epochs


def _split(data: list[Datum], n: int) -> list[list[Datum]]:
    n = max(1, min(n, len(data)))
    k, r = divmod(len(data), n)
    out, start = [], 0
    for i in range(n):
        end = start + k + (1 if i < r else 0)
        out.append(data[start:end])
        start = end
    return out


class _Trainer:
    """State shared by the sync and async loops: clients, logger, checkpoints, one training step."""

    def __init__(self, config: Config, service_client: Any, ml: MultiplexLogger) -> None:
        self.config = config
        self.service_client = service_client
        self.ml = ml
        self.training_client: Any = None
        self.sampling_client: Any = None
        self.sampler_step = 0  # how many optimizer steps the current sampling client's weights contain
        self.kl_reference: Any = None
        self.dataset: RLDataset | None = None
        self.test_dataset: RLDataset | None = None
        self.ckpt: _StepCheckpointer | None = None
        self.errors = RolloutErrorCounter()
        self.t_start = time.monotonic()
        self.reward_history: list[float] = []
        self.test_reward_history: list[tuple[int, float]] = []
        self.cost_tracker: CostTracker | None = None
        self.discarded_log: DiscardedWorkLog | None = None
        self.step_usage = TokenUsage()  # the rollouts of the batch being trained
        self.decode: Any = False  # the transcripts' token decoder: False until first looked up, None if none

    async def setup(self) -> tuple[int, int]:
        """Create or resume the training client; returns (first step to run, total steps)."""
        c = self.config
        resume = get_last_checkpoint(c.log_path)
        metadata = {"recipe": c.recipe_name}
        if c.renderer_name:
            metadata["renderer_name"] = c.renderer_name
        if resume is not None and resume.state_path:
            logger.info("resuming from %s", resume.state_path)
            self.training_client = await _resolved(
                self.service_client.create_training_client_from_state_with_optimizer(resume.state_path)
            )
        elif c.load_checkpoint_path:
            self.training_client = await _resolved(
                self.service_client.create_training_client_from_state(c.load_checkpoint_path)
            )
        else:
            self.training_client = await _resolved(
                self.service_client.create_lora_training_client(
                    base_model=c.model_name, rank=c.lora_rank, seed=c.seed, user_metadata=metadata
                )
            )
        self.dataset, self.test_dataset = await c.dataset_builder()
        if c.num_epochs > 1:
            self.dataset = _EpochCycled(self.dataset, c.num_epochs)
        total = len(self.dataset)
        if c.max_steps is not None:
            total = min(total, c.max_steps)
        if total < 1:
            raise ValidationError("the dataset has no batches", field="dataset_builder")
        start = 0
        if resume is not None:
            start = int(resume.get("step", resume.batch or 0))
        # Rows from the restart point on are re-run, so they go (all of them when no checkpoint exists yet).
        dropped = self.ml.truncate_metrics(start)
        if dropped:
            logger.info("dropped %d metrics rows of steps that will be re-run from step %d", dropped, start)
        self.ckpt = _StepCheckpointer(self.training_client, c.log_path, c.save_every, c.ttl_seconds)
        self.cost_tracker = CostTracker(
            fetch_model_pricing(c.model_name),
            cumulative=usage_from_state(resume.get("cumulative_tokens") if resume is not None else None),
            discarded=usage_from_state(resume.get("discarded_tokens") if resume is not None else None),
        )
        self.discarded_log = DiscardedWorkLog(self.cost_tracker, self.ml)
        self.sampling_client = await _resolved(self.training_client.save_weights_and_get_sampling_client())
        self.sampler_step = start
        if c.kl_penalty_coef > 0:
            self.kl_reference = await _resolved(
                self.service_client.create_sampling_client(
                    base_model=c.kl_reference_base_model(),
                    model_path=c.kl_reference_config.load_checkpoint_path if c.kl_reference_config else None,
                )
            )
        return start, total

    def policy(self, sampling_client: Any, step: int, stream: int = 0) -> TinkerTokenCompleter:
        """A completer on ``sampling_client`` whose seeds are fixed by (seed, step, stream, call number)."""
        c = self.config
        base = None if c.seed is None else ((c.seed * 1_000_003 + step) * 1_000 + stream) * 100_000
        return TinkerTokenCompleter(sampling_client, c.max_tokens, c.temperature, seed=base)

    async def evaluate(self, step: int) -> dict[str, float]:
        """Roll out every test group with the current sampler (metrics prefixed ``test/``), then run the
        configured evaluators on the sampler or the training client."""
        from ..eval.evaluators import SamplingClientEvaluator

        extra: dict[str, float] = {}
        for build in self.config.evaluator_builders:
            ev = build()
            arg = self.sampling_client if isinstance(ev, SamplingClientEvaluator) else self.training_client
            extra.update(await _resolved(ev(arg)))
        if self.test_dataset is None:
            return extra
        builders = [b for i in range(len(self.test_dataset)) for b in self.test_dataset.get_batch(i)]
        counter = RolloutErrorCounter()
        results = await gather_group_rollouts(
            builders,
            self.policy(self.sampling_client, step, stream=999),
            error_policy=self.config.error_policy,
            max_turns=self.config.max_turns,
            counter=counter,
            termination=self.config.effective_termination(),
        )
        kept = [(b, g) for b, g in zip(builders, results, strict=True) if g is not None]
        await self.export_rollouts(step, [(b, g, step) for b, g in kept], split="eval/test")
        metrics: dict[str, float] = {}
        if kept:
            metrics.update(compute_trajectory_metrics([g for _, g in kept], [b.logging_tags() for b, _ in kept]))
        metrics.update(counter.get_metrics())
        out = {f"test/{k}": v for k, v in metrics.items()}
        if "test/env/all/reward/total" in out:
            self.test_reward_history.append((step, out["test/env/all/reward/total"]))
        return {**out, **extra}

    async def export_rollouts(
        self, step: int, sampled: list[tuple[EnvGroupBuilder, TrajectoryGroup, int]], split: str = "train"
    ) -> None:
        """The cookbook's ``iteration_NNNNNN/`` rollout files (+ tinkerlite's token sidecar), written whole;
        ``split`` ``eval/test`` is the test set's (files ``eval_test_*``, as the cookbook's evaluator)."""
        c = self.config
        if not c.rollout_json_export and c.num_groups_to_log <= 0:
            return
        if self.decode is False:
            self.decode = decoder_from_client(self.training_client)
        groups = [RolloutSummaryGroup(g, b.logging_tags(), s) for b, g, s in sampled]
        await asyncio.to_thread(
            export_iteration_rollouts,
            c.log_path,
            iteration=step,
            groups_P=groups,
            split=split,
            base_name="train" if split == "train" else "eval_test",
            title=None if split == "train" else f"Running evaluation test {step}",
            json_export=c.rollout_json_export,
            num_groups_to_log=c.num_groups_to_log,
            decode=self.decode,
        )

    async def prepare(
        self, builders: Sequence[EnvGroupBuilder], groups: list[TrajectoryGroup]
    ) -> tuple[list[Datum], dict[str, Any]]:
        c = self.config
        metrics: dict[str, Any] = {}
        metrics.update(compute_trajectory_metrics(groups, [b.logging_tags() for b in builders]))
        if c.remove_constant_reward_groups:
            kept = remove_constant_reward_groups(groups)
            for g in groups:
                if not any(g is k for k in kept):
                    count_discarded_rollout(self.cost_tracker, g)
                    if self.discarded_log is not None:
                        self.discarded_log.discarded(self.sampler_step)
            groups = kept
        self.step_usage = rollout_usage(groups)
        advantages = compute_advantages(groups)
        data, _meta = assemble_training_data(groups, advantages, include_provenance=c.include_provenance)
        if c.kl_penalty_coef > 0 and self.kl_reference is not None and data:
            metrics.update(
                await incorporate_kl_penalty(data, self.kl_reference, c.kl_penalty_coef, c.kl_discount_factor)
            )
        return data, metrics

    async def train_step(self, data: list[Datum], metrics: dict[str, Any]) -> list[list[float]]:
        """``num_substeps`` × (forward_backward + optim_step), the next pair submitted before awaiting."""
        c = self.config
        batches = _split(data, c.num_substeps)
        adam = AdamParams(learning_rate=c.learning_rate, beta1=0.9, beta2=0.95, eps=1e-8)
        tc = self.training_client

        def submit(batch: list[Datum]) -> tuple[Any, Any]:
            fwd = tc.forward_backward(
                [remove_mask(d) for d in batch], loss_fn=c.training_loss_fn(), loss_fn_config=c.loss_fn_config
            )
            return fwd, tc.optim_step(adam)

        logprobs: list[list[float]] = []
        loss_sum = 0.0
        pending = submit(batches[0])
        for i in range(len(batches)):
            nxt = submit(batches[i + 1]) if i + 1 < len(batches) else None
            out = await pending[0]
            opt = await pending[1]
            logprobs.extend([float(v) for v in o["logprobs"].dense_flat()] for o in out.loss_fn_outputs)
            loss_sum += float(out.metrics.get("loss:sum", 0.0))
            if getattr(opt, "metrics", None):
                metrics.update(opt.metrics)
            if nxt is not None:
                pending = nxt
        metrics["loss:sum"] = loss_sum
        return logprobs

    async def finish_step(
        self, step: int, total: int, data: list[Datum], train_logprobs: list[list[float]], metrics: dict[str, Any]
    ) -> None:
        """KL metrics, the next sampler (a checkpoint when due), post-KL, then log the step."""
        c = self.config
        assert self.ckpt is not None
        if data:
            metrics.update(compute_kl_sample_train(data, train_logprobs))
        applied = step + 1
        pending = None
        if self.ckpt.should_save(applied) and applied < total:
            pending = self.ckpt.submit_periodic(applied, self.loop_state(applied))
            saved = await asyncio.to_thread(pending.futures["sampler"].result)
            client = await _resolved(self.training_client.create_sampling_client(saved.path))
        else:
            client = await _resolved(self.training_client.save_weights_and_get_sampling_client())
        self.sampling_client, self.sampler_step = client, applied
        if c.compute_post_kl and data:
            metrics.update(await compute_post_kl(data, self.sampling_client))
        metrics.update(self.errors.get_metrics())
        if self.cost_tracker is not None:
            metrics.update(self.cost_tracker.record_step(self.step_usage + training_usage(data)))
            metrics.update(self.cost_tracker.cumulative_metrics())
        self.step_usage = TokenUsage()
        metrics.update(
            {
                "progress/batch": step,
                "progress/done_frac": applied / total,
                "optim/lr": c.learning_rate,
                "time/total": time.monotonic() - self.t_start,
            }
        )
        reward = metrics.get("env/all/reward/total", math.nan)
        self.reward_history.append(float(reward))
        self.ml.log_metrics(metrics, step=step)
        if self.discarded_log is not None:
            self.discarded_log.step_logged()
        if pending is not None:  # the record after the step's row: a crash between them re-runs, never skips
            await asyncio.to_thread(pending.finish)

    def loop_state(self, batch: int) -> dict[str, Any]:
        """Checkpoint ``loop_state``: the next batch plus the running token totals, for resume."""
        state: dict[str, Any] = {"batch": batch, "step": batch}
        if self.cost_tracker is not None:
            state["cumulative_tokens"] = asdict(self.cost_tracker.cumulative)
            state["discarded_tokens"] = asdict(self.cost_tracker.discarded)
        return state

    async def finalize(self, total: int) -> dict[str, Any]:
        assert self.ckpt is not None
        ckpt = self.ckpt
        rec = await asyncio.to_thread(ckpt.save_final, self.loop_state(total))
        return {"state_path": rec.state_path, "sampler_path": rec.sampler_path}


async def main(
    config: Config, rollout_executor: Any | None = None, *, service_client: Any | None = None
) -> dict[str, Any]:
    """Train; returns a summary (steps run, reward per step, final checkpoint paths).

    ``rollout_executor`` is the cookbook's (rollouts in threads or processes); tinkerlite runs rollouts as
    asyncio tasks and refuses one. ``service_client`` (tinkerlite) reuses an open client.
    """
    if rollout_executor is not None:
        raise ValidationError(
            "rollout executors are not implemented; rollouts run as asyncio tasks", field="rollout_executor"
        )
    _validate(config)
    ml = setup_logging(
        config.log_path, config.wandb_project, config.wandb_name, config=config, do_configure_logging_module=False
    )
    owns = service_client is None
    if service_client is None:
        from ..client.service_client import ServiceClient

        service_client = ServiceClient(
            base_url=config.base_url,
            api_key=config.api_key,
            display_name=resolve_session_display_name(session_name=config.session_name, wandb_name=config.wandb_name),
        )
    try:
        tr = _Trainer(config, service_client, ml)
        start, total = await tr.setup()
        progress = ProgressLine(total) if config.show_progress and total > start else None
        if config.async_config is None:
            steps = await _sync_loop(tr, start, total, progress)
        else:
            steps = await _async_loop(tr, start, total, progress)
        final: dict[str, Any] = {}
        if steps:
            if config.eval_every > 0:
                final_eval = await tr.evaluate(total)
                if final_eval:
                    ml.log_metrics(final_eval, step=total)
                    final.update(final_eval)
            final.update(await tr.finalize(total))
        return {
            "steps_run": steps,
            "total_steps": total,
            "start_step": start,
            "reward_history": tr.reward_history,
            "test_reward_history": tr.test_reward_history,
            "training_client": tr.training_client,
            **final,
        }
    finally:
        ml.close()
        if owns:
            service_client.close()


def run(config: Config, service_client: Any | None = None) -> dict[str, Any]:
    """Blocking entry point: ``asyncio.run(main(config))``."""
    return asyncio.run(main(config, service_client=service_client))
