"""tinkerlite's RL run state and the hooks the cookbook's loops call (:class:`_Trainer`), for :func:`.train.main`.

The loops (:mod:`._train_loops`, :mod:`._async_loop`) find the trainer in ``_train_steps._RUN_HOOKS``
and ask it for the rollouts (seeded by (seed, step, group), with ``error_policy`` and ``max_turns``), the
evaluations, the rollout files, and what happens around each step's metrics row.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..checkpoint_utils import _StepCheckpointer, get_last_checkpoint
from ..completers import TinkerTokenCompleter
from ..errors import ValidationError
from ..types import Datum
from ..utils import logtree
from ..utils.cost_estimation import CostTracker, usage_from_state
from ..utils.misc_utils import iteration_dir
from ..utils.ml_log import MultiplexLogger, ProgressLine
from . import rollouts as _rollouts
from ._logtree_scope import logtree_scope
from ._loop_checkpointer import LoopCheckpointer
from ._train_reporting import _resolved
from ._train_steps import _loop_state
from .dataset_utils import EpochCycledRLDataset
from .metric_util import compute_trajectory_metrics
from .rollout_logging import RolloutSummaryGroup, export_iteration_rollouts
from .rollouts import (
    RolloutErrorCounter,
    _do_group_rollout,
    do_group_rollout_and_filter_constant_reward,
    gather_group_rollouts,
    get_rollout_executor,
)
from .types import EnvGroupBuilder, RLDataset, TrajectoryGroup

if TYPE_CHECKING:
    from .train import Config

logger = logging.getLogger("tinkerlite.rl.train")
_BUILTIN_GROUP_ROLLOUT = _rollouts.do_group_rollout


def _cookbook_rollout_path() -> bool:
    """Rollouts go the cookbook's way (:func:`do_group_rollout_and_filter_constant_reward`) when a rollout
    executor is set, or when user code rebound ``rollouts.do_group_rollout`` (the cookbook's documented way
    to override rollout behaviour), so that override takes effect in tinkerlite's runs too."""
    return get_rollout_executor() is not None or _rollouts.do_group_rollout is not _BUILTIN_GROUP_ROLLOUT


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

    def __init__(self, config: Config, service_client: Any, ml: MultiplexLogger, pricing: Callable[[str], Any]) -> None:
        self.config = config
        self.pricing = pricing  # train.fetch_model_pricing, looked up there (tests replace it)
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
        self.dataset = EpochCycledRLDataset(self.dataset, c.num_epochs)  # step i trains batch i % len
        total = len(self.dataset)
        if c.max_steps is not None:
            if c.max_steps > total:
                logger.warning(
                    "max_steps=%d exceeds num_epochs * len(dataset) = %d; training will stop after %d steps. "
                    "Set num_epochs to train for more passes over the dataset.",
                    c.max_steps,
                    total,
                    total,
                )
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
            self.pricing(c.model_name),
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
        the open transcript; with a rollout executor or a rebound ``rollouts.do_group_rollout``, the
        cookbook's path (unseeded)."""
        c = self.config
        self._note_live_transcript(step)
        if _cookbook_rollout_path():
            return list(
                await asyncio.gather(*(self.rollout_group(sampling_client, step, b, i) for i, b in enumerate(builders)))
            )
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
        if _cookbook_rollout_path():
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
        """tinkerlite's additions to the step's row: the summed training loss (``loss:sum``, which the
        viewer plots), running token totals and errors; the reward history."""
        metrics.update(self.errors.get_metrics())
        if self.last_loss is not None:
            metrics["loss:sum"] = self.last_loss[0]
        if self.cost_tracker is not None:
            metrics.update(self.cost_tracker.cumulative_metrics())
        self.reward_history.append(float(metrics.get("env/all/reward/total", math.nan)))

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
