"""RL training (the cookbook's ``rl/train.py``): ``Config``, ``main`` and the library it is built from.

The loops are the cookbook's three, ``do_sync_training`` (sample a batch, train, a new sampler every
step), ``do_sync_training_with_stream_minibatch`` (train minibatches as their groups finish) and
``do_async_training`` (off-policy, bounded by rollout slots), built from the cookbook's step functions
(``prepare_minibatch``, ``train_step``, ``compute_full_batch_metrics_and_get_sampling_client``, ...; in
:mod:`._train_steps`, :mod:`._train_loops`, :mod:`._async_loop`). :func:`main` runs them with
:class:`_Trainer` as hooks for what tinkerlite adds: seeds fixed by (seed, step, group), ``error_policy``
and ``max_turns``, the token sidecar of the rollout files, the progress line.

Checkpoints follow :mod:`tinkerlite.checkpoint_utils`: a record says how many steps its weights contain
(``step``) and which batch comes next (``batch``), and is written after that step's metrics row; a resumed
run truncates ``metrics.jsonl`` to that step and continues. In the sync loops batches and sampling seeds
depend only on the step, so a resumed run repeats what the uninterrupted one would have done. The async
loop resumes at the recorded batch; which rollouts land in which step depends on timing there, as in
the cookbook.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from .. import checkpoint_utils as checkpoint_utils
from ..errors import ValidationError
from ..exceptions import ConfigurationError
from ..utils.config import configclass, field, refuse_unsupported, validate
from ..utils.cost_estimation import CostTracker as CostTracker
from ..utils.cost_estimation import TokenUsage as TokenUsage
from ..utils.cost_estimation import fetch_model_pricing
from ..utils.ml_log import ProgressLine, setup_logging
from ..utils.session_naming import resolve_session_display_name
from . import _logtree_scope
from ._async_loop import _AsyncCounter as _AsyncCounter
from ._async_loop import do_async_training as do_async_training

# Token accounting, re-exported at its cookbook path (``X as X``: an explicit re-export).
from ._cost_accounting import DISCARDED_WORK_LOG_INTERVAL_SECONDS as DISCARDED_WORK_LOG_INTERVAL_SECONDS
from ._cost_accounting import DiscardedWorkLog as DiscardedWorkLog
from ._cost_accounting import count_discarded_rollout as count_discarded_rollout
from ._cost_accounting import drop_constant_reward_group as drop_constant_reward_group
from ._cost_accounting import rollout_usage as rollout_usage
from ._cost_accounting import training_usage as training_usage
from ._rollout_logtree import TRANSCRIPT_DECODER
from ._train_loops import _maybe_export_rollout_summary_jsonl as _maybe_export_rollout_summary_jsonl
from ._train_loops import do_sync_training as do_sync_training
from ._train_loops import do_sync_training_with_stream_minibatch as do_sync_training_with_stream_minibatch
from ._train_reporting import gather_with_progress as gather_with_progress
from ._train_reporting import print_group as print_group
from ._train_reporting import run_evaluations_parallel as run_evaluations_parallel
from ._train_reporting import run_single_evaluation as run_single_evaluation
from ._train_steps import _RUN_HOOKS
from ._train_steps import SamplingClientReuse as SamplingClientReuse
from ._train_steps import WrappedTrajectoryGroup as WrappedTrajectoryGroup
from ._train_steps import _check_provenance as _check_provenance
from ._train_steps import _loop_state as _loop_state
from ._train_steps import _Shutdown as _Shutdown
from ._train_steps import _training_logprobs_from_fwd_bwd as _training_logprobs_from_fwd_bwd
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
from ._trainer import _Trainer

# What the cookbook's rl.train imports, importable from here as there (``X as X``: explicit re-exports).
from .data_processing import assemble_training_data as assemble_training_data
from .data_processing import compute_advantages as compute_advantages
from .data_processing import remove_constant_reward_groups as remove_constant_reward_groups
from .metric_util import RLTestSetEvaluator as RLTestSetEvaluator
from .metric_util import compute_trajectory_metrics as compute_trajectory_metrics
from .metrics import compute_kl_sample_train as compute_kl_sample_train
from .metrics import compute_post_kl as compute_post_kl
from .metrics import compute_sampling_client_metrics as compute_sampling_client_metrics
from .metrics import incorporate_kl_penalty as incorporate_kl_penalty
from .rollout_limits import TerminationRewardPolicy
from .rollout_logging import decoder_from_client
from .rollout_presets import default_rollout_config_for_model, default_rollout_strategy_for_model
from .rollout_strategy import RolloutStrategy, rollout_strategy_from_config
from .rollouts import (
    ERROR_POLICIES,
    ErrorPolicy,
    set_rollout_executor,
)
from .rollouts import RolloutErrorCounter as RolloutErrorCounter
from .rollouts import do_group_rollout as do_group_rollout
from .rollouts import do_group_rollout_and_filter_constant_reward as do_group_rollout_and_filter_constant_reward
from .stream_minibatch import StreamMinibatchConfig
from .types import EnvGroupBuilder as EnvGroupBuilder
from .types import RLDataset as RLDataset
from .types import RLDatasetBuilder
from .types import TrajectoryGroup as TrajectoryGroup

# Private names of the cookbook's rl.train that code written for it rebinds to override a piece (its own
# tests do); the loops look these (and the public step functions) up here at call time.
_get_logtree_scope = _logtree_scope.logtree_scope

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

    At most ``groups_per_batch * (max_steps_off_policy + 1)`` groups are started but not yet trained; each
    step trains the ``groups_per_batch`` completed groups sampled from the oldest weights (none is
    discarded for staleness). Async runs train with ``loss_fn`` (the cookbook's default,
    ``stable_reinforce``), not ``Config.loss_fn``.
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
        if config.loss_fn not in ("importance_sampling", config.async_config.loss_fn):
            raise ConfigurationError(
                f"Config.loss_fn={config.loss_fn!r} conflicts with AsyncConfig.loss_fn="
                f"{config.async_config.loss_fn!r}; async runs train with AsyncConfig.loss_fn, so set the loss there."
            )
        if config.async_config.max_steps_off_policy > 0 and config.training_loss_fn() in (
            "importance_sampling",
            "cispo",
        ):
            logger.warning(
                "loss_fn=%r can become unstable on the off-policy data that async training produces; prefer "
                "'stable_reinforce' (the async default) or a clipped loss such as 'ppo'.",
                config.training_loss_fn(),
            )
    if config.training_loss_fn() == "stable_reinforce" and config.kl_penalty_coef > 0 and config.kl_discount_factor > 0:
        # Discounting spreads the penalty onto prompt tokens; stable_reinforce takes advantages on sampled ones only.
        raise ConfigurationError(
            "kl_discount_factor > 0 is not supported with loss_fn='stable_reinforce' (the AsyncConfig default); "
            "set kl_discount_factor=0 or choose another loss_fn."
        )


async def main(
    config: Config, rollout_executor: Any | None = None, *, service_client: Any | None = None
) -> dict[str, Any]:
    """Train; returns a summary (steps run, reward per step, final checkpoint paths).

    ``rollout_executor`` is the cookbook's: each group rollout runs through it (threads, a ``spawn`` process
    pool, a cluster), unseeded, and it is shut down at the end. ``service_client`` (tinkerlite) reuses an
    open client.

    Differences from the cookbook's ``main``, each deliberate: every step's row carries the running token
    totals (``tokens/cumulative/*``, ``tokens/discarded/*``), so there is no extra totals row at
    ``end_batch``; a checkpoint record is written after its step's metrics row (a crash between the two
    re-runs the step); the last step saves no periodic checkpoint (the final one follows); the async loop
    saves no checkpoint of its starting weights.
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
        tr = _Trainer(config, service_client, ml, pricing=fetch_model_pricing)
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
