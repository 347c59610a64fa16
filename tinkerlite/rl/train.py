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
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..checkpoint_utils import _StepCheckpointer, get_last_checkpoint
from ..completers import TinkerTokenCompleter
from ..errors import ValidationError
from ..types import Datum
from ..utils import logtree
from ..utils.config import configclass, field, refuse_unsupported, validate
from ..utils.cost_estimation import CostTracker, fetch_model_pricing, usage_from_state
from ..utils.misc_utils import iteration_dir
from ..utils.ml_log import MultiplexLogger, ProgressLine, setup_logging
from ..utils.session_naming import resolve_session_display_name
from ._async_loop import do_async_training as do_async_training

# Token accounting, re-exported at its cookbook path (``X as X``: an explicit re-export).
from ._cost_accounting import DISCARDED_WORK_LOG_INTERVAL_SECONDS as DISCARDED_WORK_LOG_INTERVAL_SECONDS
from ._cost_accounting import DiscardedWorkLog as DiscardedWorkLog
from ._cost_accounting import count_discarded_rollout as count_discarded_rollout
from ._cost_accounting import drop_constant_reward_group as drop_constant_reward_group
from ._cost_accounting import rollout_usage as rollout_usage
from ._cost_accounting import training_usage as training_usage
from ._logtree_scope import logtree_scope
from ._loop_checkpointer import LoopCheckpointer
from ._rollout_logtree import TRANSCRIPT_DECODER
from ._train_loops import do_sync_training as do_sync_training
from ._train_loops import do_sync_training_with_stream_minibatch as do_sync_training_with_stream_minibatch
from ._train_reporting import _resolved
from ._train_reporting import gather_with_progress as gather_with_progress
from ._train_reporting import print_group as print_group
from ._train_reporting import run_evaluations_parallel as run_evaluations_parallel
from ._train_reporting import run_single_evaluation as run_single_evaluation
from ._train_steps import _RUN_HOOKS, _loop_state
from ._train_steps import SamplingClientReuse as SamplingClientReuse
from ._train_steps import WrappedTrajectoryGroup as WrappedTrajectoryGroup
from ._train_steps import (
    compute_full_batch_metrics_and_get_sampling_client as compute_full_batch_metrics_and_get_sampling_client,
)
from ._train_steps import do_train_step_and_get_sampling_client as do_train_step_and_get_sampling_client
from ._train_steps import (
    do_train_step_streaming_and_get_sampling_client as do_train_step_streaming_and_get_sampling_client,
)
from ._train_steps import prepare_minibatch as prepare_minibatch
from ._train_steps import save_checkpoint_and_get_sampling_client as save_checkpoint_and_get_sampling_client
from ._train_steps import train_step as train_step
from .metric_util import compute_trajectory_metrics
from .rollout_limits import TerminationRewardPolicy
from .rollout_logging import RolloutSummaryGroup, decoder_from_client, export_iteration_rollouts
from .rollout_presets import default_rollout_config_for_model, default_rollout_strategy_for_model
from .rollout_strategy import RolloutStrategy, rollout_strategy_from_config
from .rollouts import (
    ERROR_POLICIES,
    ErrorPolicy,
    RolloutErrorCounter,
    _do_group_rollout,
    do_group_rollout_and_filter_constant_reward,
    gather_group_rollouts,
    get_rollout_executor,
    set_rollout_executor,
)
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


class _LazyTokenizer:
    """The run's tokenizer, loaded from the training client on first use (only logging decodes)."""

    def __init__(self, training_client: Any) -> None:
        self._client = training_client
        self._tok: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._tok is None:
            self._tok = self._client.get_tokenizer()
        return getattr(self._tok, name)


class _Trainer:
    """One tinkerlite run: clients, dataset, checkpoints, and the hooks the cookbook's loops call
    (``_train_steps._RUN_HOOKS``): seeded rollouts with ``error_policy``/``max_turns``, tinkerlite's
    evaluation and rollout files, the progress line, checkpoint records after each step's row."""

    def __init__(self, config: Config, service_client: Any, ml: MultiplexLogger) -> None:
        self.config = config
        self.service_client = service_client
        self.ml = ml
        self.training_client: Any = None
        self.kl_reference: Any = None
        self.dataset: RLDataset | None = None
        self.test_dataset: RLDataset | None = None
        self.ckpt: LoopCheckpointer | None = None
        self.errors = RolloutErrorCounter()
        self.reward_history: list[float] = []
        self.test_reward_history: list[tuple[int, float]] = []
        self.final_eval: dict[str, float] = {}
        self.cost_tracker: CostTracker | None = None
        self.decode: Any = None  # the transcripts' token decoder (None: token ids only)
        self.tokenizer: Any = None
        self.last_loss: tuple[float, list[Datum]] | None = None
        self.progress: ProgressLine | None = None
        self.steps_run = 0
        self.async_steps_done: int | None = None
        self.live_transcripts: set[int] = set()  # steps whose transcript the rollouts wrote while sampling

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
        self.tokenizer = _LazyTokenizer(self.training_client)
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
        self.ckpt = LoopCheckpointer(
            _StepCheckpointer(self.training_client, c.log_path, c.save_every, c.ttl_seconds), total
        )
        self.cost_tracker = CostTracker(
            fetch_model_pricing(c.model_name),
            cumulative=usage_from_state(resume.get("cumulative_tokens") if resume is not None else None),
            discarded=usage_from_state(resume.get("discarded_tokens") if resume is not None else None),
        )
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

    def evaluators(self) -> list[Any]:
        """Non-empty when the run has something to evaluate (the loops check it before evaluating)."""
        return [self] if self.config.evaluator_builders or self.test_dataset is not None else []

    # ---- hooks called by the loops ----------------------------------------------------------------

    async def rollout_batch(self, sampling_client: Any, step: int, builders: list[EnvGroupBuilder]) -> list[Any]:
        """A sync step's groups, seeded by (seed, step, group), the first ``num_groups_to_log`` of them into
        the open transcript; with a rollout executor, the cookbook's executor path (unseeded)."""
        c = self.config
        self._note_live_transcript(step)
        if get_rollout_executor() is not None:
            return [await self.rollout_group(sampling_client, step, b, i) for i, b in enumerate(builders)]
        return await gather_group_rollouts(
            builders,
            self.policy(sampling_client, step),
            error_policy=c.error_policy,
            max_turns=c.max_turns,
            counter=self.errors,
            termination=c.effective_termination(),
            log_groups=c.num_groups_to_log,
        )

    async def rollout_group(self, sampling_client: Any, step: int, builder: EnvGroupBuilder, index: int) -> Any:
        """One group (streaming and async loops); a failure under ``drop`` is counted and gives None."""
        c = self.config
        self._note_live_transcript(step)
        if get_rollout_executor() is not None:
            group = await do_group_rollout_and_filter_constant_reward(
                sampling_client,
                builder,
                c.max_tokens,
                c.temperature,
                False,
                enable_logging=index < c.num_groups_to_log,
                strategy=c.effective_rollout_strategy(),
                termination=c.effective_termination(),
            )
            self.errors.ingest(group)
            return group
        try:
            with logtree.optional_enable_logging(index < c.num_groups_to_log):
                group = await _do_group_rollout(
                    builder,
                    self.policy(sampling_client, step, stream=1 + index % 997),
                    error_policy=c.error_policy,
                    max_turns=c.max_turns,
                    termination=c.effective_termination(),
                )
        except Exception as e:
            if c.error_policy == "fail_fast":
                raise
            logger.warning("group rollout failed (%s): %s", type(e).__name__, e)
            self.errors.record_exception(e)
            group = None
        self.errors.ingest(group)
        return group

    def _note_live_transcript(self, step: int) -> None:
        """The loop opened this step's logtree transcript: the export then writes no HTML of its own."""
        if logtree._enabled():
            self.live_transcripts.add(step)

    async def evaluate(self, step: int, sampling_client: Any, *, end_step: int | None) -> dict[str, float]:
        """Every ``eval_every`` steps and at the end: the configured evaluators (on the sampler or the
        training client) and the test set rolled out with the sampler (metrics prefixed ``test/``)."""
        from ..eval.evaluators import SamplingClientEvaluator
        from ._train_loops import _should_run_evals

        if not _should_run_evals(self.evaluators(), self.config, step, end_step=end_step):
            return {}
        extra: dict[str, float] = {}
        for build in self.config.evaluator_builders:
            ev = build()
            arg = sampling_client if isinstance(ev, SamplingClientEvaluator) else self.training_client
            extra.update(await _resolved(ev(arg)))
        out: dict[str, float] = {}
        if self.test_dataset is not None:
            out = await self._test_set(step, sampling_client)
        out = {**out, **extra}
        if step == end_step:
            self.final_eval = dict(out)
        return out

    async def _test_set(self, step: int, sampling_client: Any) -> dict[str, float]:
        assert self.test_dataset is not None
        builders = [b for i in range(len(self.test_dataset)) for b in self.test_dataset.get_batch(i)]
        counter = RolloutErrorCounter()
        c = self.config
        # As the cookbook's run_single_evaluation: the rollouts write into the eval_test transcript.
        with logtree_scope(
            iteration_dir(c.log_path, step),
            c.num_groups_to_log,
            "eval_test",
            f"Running evaluation test {step}",
            iteration=step,
            store=self.ml.store,
        ):
            results = await gather_group_rollouts(
                builders,
                self.policy(sampling_client, step, stream=999),
                error_policy=c.error_policy,
                max_turns=c.max_turns,
                counter=counter,
                termination=c.effective_termination(),
                log_groups=c.num_groups_to_log,
            )
        kept = [(b, g) for b, g in zip(builders, results, strict=True) if g is not None]
        self.export(step, [(b, g, step) for b, g in kept], split="eval/test", live_transcript=True)
        metrics: dict[str, float] = {}
        if kept:
            metrics.update(compute_trajectory_metrics([g for _, g in kept], [b.logging_tags() for b, _ in kept]))
        metrics.update(counter.get_metrics())
        out = {f"test/{k}": v for k, v in metrics.items()}
        if "test/env/all/reward/total" in out:
            self.test_reward_history.append((step, out["test/env/all/reward/total"]))
        return out

    def export(
        self,
        step: int,
        sampled: list[tuple[EnvGroupBuilder, TrajectoryGroup, int]],
        split: str = "train",
        live_transcript: bool | None = None,
    ) -> None:
        """The cookbook's ``iteration_NNNNNN/`` rollout files (+ tinkerlite's token sidecar), written whole;
        ``split`` ``eval/test`` is the test set's (files ``eval_test_*``, as the cookbook's evaluator). The
        HTML transcript is the one the rollouts wrote while sampling; a step sampled outside one (the async
        loop) gets one built from the trajectories."""
        c = self.config
        if live_transcript is None:
            live_transcript = step in self.live_transcripts
        n_logged = 0 if live_transcript else c.num_groups_to_log
        if not c.rollout_json_export and n_logged <= 0:
            return
        groups = [RolloutSummaryGroup(g, b.logging_tags(), s) for b, g, s in sampled]
        export_iteration_rollouts(
            c.log_path,
            iteration=step,
            groups_P=groups,
            split=split,
            base_name="train" if split == "train" else "eval_test",
            title=None if split == "train" else f"Running evaluation test {step}",
            json_export=c.rollout_json_export,
            num_groups_to_log=n_logged,
            decode=self.decode,
        )

    def before_log(self, step: int, metrics: dict[str, Any]) -> None:
        """tinkerlite's additions to the step's row: running token totals and errors; the reward history."""
        metrics.update(self.errors.get_metrics())
        if self.cost_tracker is not None:
            metrics.update(self.cost_tracker.cumulative_metrics())
        metrics.setdefault("progress/batch", step)
        if "env/all/reward/total" in metrics:
            self.reward_history.append(float(metrics["env/all/reward/total"]))
        elif "progress/batch" in metrics:
            self.reward_history.append(math.nan)

    async def after_log(self, step: int) -> None:
        """The step's checkpoint record (after its row: a crash between them re-runs, never skips), progress."""
        assert self.ckpt is not None
        await self.ckpt.flush()
        self.steps_run += 1
        loss_sum, data = self.last_loss if self.last_loss is not None else (math.nan, [])
        self.last_loss = None
        if self.progress is not None:
            n_tokens = sum(d.model_input.length for d in data)
            n_loss = sum(sum(1 for m in d.loss_fn_inputs["mask"].dense_flat() if m > 0) for d in data)
            reward = self.reward_history[-1] if self.reward_history else math.nan
            extra = f"reward {reward:.3f}"
            if self.cost_tracker is not None and self.cost_tracker.rates is not None:
                extra += f"  ~${self.cost_tracker.cumulative_metrics()['cost/cumulative_usd']:.4f}"
            if self.test_reward_history and self.test_reward_history[-1][0] == step:
                extra += f"  test/reward {self.test_reward_history[-1][1]:.3f}"
            self.progress.update(step, loss_sum / n_loss if n_loss else math.nan, n_tokens, extra)

    def loop_state(self, batch: int) -> dict[str, Any]:
        """Checkpoint ``loop_state``: the next batch plus the running token totals, for resume."""
        return {**_loop_state(batch, self.cost_tracker), "step": batch}

    async def finalize(self, total: int) -> dict[str, Any]:
        assert self.ckpt is not None
        paths = await self.ckpt.save_final_async(self.loop_state(total))
        return {"state_path": paths.get("state_path"), "sampler_path": paths.get("sampler_path")}


async def main(
    config: Config, rollout_executor: Any | None = None, *, service_client: Any | None = None
) -> dict[str, Any]:
    """Train; returns a summary (steps run, reward per step, final checkpoint paths).

    ``rollout_executor`` is the cookbook's: each group rollout runs through it (threads, a ``spawn`` process
    pool, a cluster), unseeded, and it is shut down at the end. ``service_client`` (tinkerlite) reuses an
    open client.
    """
    _validate(config)
    if rollout_executor is not None:
        set_rollout_executor(rollout_executor)
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
        tr.progress = ProgressLine(total) if config.show_progress and total > start else None
        if config.async_config is not None:
            loop = do_async_training
        elif config.stream_minibatch_config is not None:
            loop = do_sync_training_with_stream_minibatch
        else:
            loop = do_sync_training
        assert tr.dataset is not None
        tr.decode = (
            decoder_from_client(tr.training_client)
            if config.num_groups_to_log > 0 or config.rollout_json_export
            else None
        )
        token = _RUN_HOOKS.set(tr)
        decoder_token = TRANSCRIPT_DECODER.set(tr.decode)
        try:
            await loop(
                start_batch=start,
                end_batch=total,
                num_batches=total,
                config=config,
                training_client=tr.training_client,
                kl_reference_client=tr.kl_reference,
                evaluators=tr.evaluators(),
                dataset=tr.dataset,
                ml_logger=ml,
                tokenizer=tr.tokenizer,
                error_counter=tr.errors,
                strategy=None,
                checkpoint_mgr=tr.ckpt,
                cost_tracker=tr.cost_tracker,
            )
        finally:
            TRANSCRIPT_DECODER.reset(decoder_token)
            _RUN_HOOKS.reset(token)
        final: dict[str, Any] = dict(tr.final_eval)
        if tr.steps_run:
            final.update(await tr.finalize(total))
        return {
            "steps_run": tr.steps_run,
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
        if rollout_executor is not None:
            rollout_executor.shutdown(wait=True)
            set_rollout_executor(None)


def run(config: Config, service_client: Any | None = None) -> dict[str, Any]:
    """Blocking entry point: ``asyncio.run(main(config))``."""
    return asyncio.run(main(config, service_client=service_client))
