"""One RL training step, in the cookbook's pieces (``rl/train.py``), re-exported by :mod:`.train`.

``prepare_minibatch`` (trajectories to datums, KL penalty), ``train_step`` (pipelined
``forward_backward`` + ``optim_step`` substeps), ``compute_full_batch_metrics_and_get_sampling_client``
(KL metrics, cost, the next sampler, a checkpoint when due), and the two compositions
``do_train_step_and_get_sampling_client`` / ``do_train_step_streaming_and_get_sampling_client``.
tinkerlite's own loops (:mod:`._train_loops`) are built from these same functions.

Differences, each deliberate: ``train_step`` returns the per-datum training logprobs as the SDK's
``TensorData`` (``.tolist()``, ``.to_torch()``) instead of torch tensors, so nothing needs torch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ValidationError
from ..types import AdamParams, Datum
from ..utils import trace
from ..utils.config import configclass, field
from ..utils.cost_estimation import CostTracker, TokenUsage
from ..utils.misc_utils import split_list
from ._cost_accounting import rollout_usage, training_usage
from ._train_reporting import _resolved, print_group
from .data_processing import assemble_training_data, compute_advantages, remove_mask
from .metrics import compute_kl_sample_train, compute_post_kl, incorporate_kl_penalty
from .types import EnvGroupBuilder, TrajectoryGroup

if TYPE_CHECKING:
    from .train import Config

__all__ = [
    "SamplingClientReuse",
    "WrappedTrajectoryGroup",
    "compute_full_batch_metrics_and_get_sampling_client",
    "do_train_step_and_get_sampling_client",
    "do_train_step_streaming_and_get_sampling_client",
    "prepare_minibatch",
    "save_checkpoint_and_get_sampling_client",
    "train_step",
]

# The cookbook logs these from rl.train; so do we.
logger = logging.getLogger("tinkerlite.rl.train")
T = TypeVar("T")


def _cb() -> Any:
    """``tinkerlite.rl.train``: the steps and loops call each other through it, so code written for the
    cookbook that overrides a step by rebinding ``rl.train.<name>`` (its own tests do) still takes effect."""
    from . import train

    return train


def _training_logprobs_from_fwd_bwd(fwd_bwd_result: Any) -> list[Any]:
    """Each datum's training logprobs from a ``forward_backward`` result (``TensorData``, not torch)."""
    return [output["logprobs"] for output in fwd_bwd_result.loss_fn_outputs]


def _check_provenance(data_D: Sequence[Datum], loss_fn: str) -> None:
    """``stable_reinforce`` trains on provenance: refuse a datum without it before anything is sent."""
    if loss_fn != "stable_reinforce":
        return
    for i, datum in enumerate(data_D):
        if datum.loss_fn_input_spans is None:
            raise ValidationError(
                "loss_fn='stable_reinforce' needs provenance on every datum; this one has none (an action "
                "lacks a sequence_id, which a custom TokenCompleter must set, or no target is a sampled "
                "token). Fix the data or train with a different loss_fn.",
                field=f"data_D[{i}]",
            )


def _adam(learning_rate: float) -> AdamParams:
    return AdamParams(learning_rate=learning_rate, beta1=0.9, beta2=0.95, eps=1e-8)


async def _pipelined_train(
    data_D: list[Datum],
    training_client: Any,
    learning_rate: float,
    num_substeps: int,
    loss_fn: str,
    loss_fn_config: dict[str, Any] | None,
    metrics: dict[str, Any] | None,
) -> tuple[list[Any], float]:
    """:func:`train_step`, also returning the summed ``loss:sum`` (tinkerlite's progress line shows it)."""
    _check_provenance(data_D, loss_fn)
    batches = split_list(data_D, min(num_substeps, len(data_D))) if data_D else []
    if not batches:
        return [], 0.0
    adam = _adam(learning_rate)

    def submit(batch: list[Datum]) -> tuple[Any, Any]:
        fwd = training_client.forward_backward(
            [remove_mask(d) for d in batch], loss_fn=loss_fn, loss_fn_config=loss_fn_config
        )
        return fwd, training_client.optim_step(adam)

    logprobs: list[Any] = []
    loss_sum = 0.0
    optim_result: Any = None
    pending = submit(batches[0])
    for i in range(len(batches)):
        nxt = submit(batches[i + 1]) if i + 1 < len(batches) else None  # keep the pipeline full
        out = await _resolved(pending[0])
        logprobs.extend(_cb()._training_logprobs_from_fwd_bwd(out))
        loss_sum += float((getattr(out, "metrics", None) or {}).get("loss:sum", 0.0))
        optim_result = await _resolved(pending[1])
        if nxt is not None:
            pending = nxt
    if metrics is not None and optim_result is not None and getattr(optim_result, "metrics", None):
        metrics.update(optim_result.metrics)
    return logprobs, loss_sum


@trace.scope
async def train_step(
    data_D: list[Datum],
    training_client: Any,
    learning_rate: float,
    num_substeps: int,
    loss_fn: str,
    loss_fn_config: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> list[Any]:
    """``num_substeps`` × (``forward_backward`` + ``optim_step``), the next pair submitted before the
    previous result is awaited; returns each datum's training logprobs (``TensorData``). The last
    ``optim_step``'s metrics go into ``metrics`` when given."""
    logprobs, _ = await _pipelined_train(
        data_D, training_client, learning_rate, num_substeps, loss_fn, loss_fn_config, metrics
    )
    return logprobs


@configclass
class WrappedTrajectoryGroup:
    """A trajectory group with the builder that made it and the step of the sampler that sampled it
    (streaming and async training train groups from several policy versions)."""

    trajectory_group: TrajectoryGroup
    env_group_builder: EnvGroupBuilder
    sampling_client_step: int
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Shutdown:
    """Queue sentinel: no more trajectory groups will come."""


@dataclass
class SamplingClientReuse:
    """Lets the async loop keep the current sampler when no rollout worker is left to use new weights."""

    sampling_client: Any
    rollout_workers_finished: asyncio.Event
    reused: bool = False


def _loop_state(batch: int, cost_tracker: CostTracker | None) -> dict[str, Any]:
    """Checkpoint ``loop_state``: the next batch plus the running token totals, for resume."""
    state: dict[str, Any] = {"batch": batch}
    if cost_tracker is not None:
        state["cumulative_tokens"] = asdict(cost_tracker.cumulative)
        state["discarded_tokens"] = asdict(cost_tracker.discarded)
    return state


@trace.scope
async def save_checkpoint_and_get_sampling_client(
    training_client: Any,
    checkpoint_mgr: Any,
    i_batch: int,
    start_batch: int = 0,
    record_stability_info: bool = False,
    cost_tracker: CostTracker | None = None,
) -> tuple[Any, dict[str, Any]]:
    """A sampler on the current weights: from a periodic checkpoint when ``i_batch`` is due one (and past
    ``start_batch``), else from a sampler-only snapshot."""
    metrics: dict[str, Any] = {}
    if i_batch > start_batch and checkpoint_mgr.should_save_periodic(i_batch):
        paths = await checkpoint_mgr.save_periodic_async(step=i_batch, loop_state=_loop_state(i_batch, cost_tracker))
        client = await _resolved(
            training_client.create_sampling_client(paths["sampler_path"], record_stability_info=record_stability_info)
        )
        return client, metrics
    async with trace.scope_span("save_checkpoint"):
        client = await _resolved(
            training_client.save_weights_and_get_sampling_client(record_stability_info=record_stability_info)
        )
    return client, metrics


def _unpack_with_usage(result: Any) -> tuple[dict[str, Any], TokenUsage]:
    """KL helpers return metrics, or (metrics, usage) as the cookbook's: accept both."""
    if isinstance(result, tuple):
        return dict(result[0]), result[1]
    return dict(result), TokenUsage()


@trace.scope
async def prepare_minibatch(
    env_group_builders_P: Sequence[EnvGroupBuilder],
    trajectory_groups_P: list[TrajectoryGroup],
    tokenizer: Any,
    kl_reference_client: Any | None,
    kl_penalty_coef: float,
    kl_discount_factor: float,
    include_provenance: bool = True,
) -> tuple[list[Datum], dict[str, Any], TokenUsage]:
    """Trajectory groups to datums (group-centred advantages), with the groups' metrics, the first two
    groups printed (:func:`print_group`), the KL penalty folded in when configured, and the token usage
    so far (the rollouts' sampling plus the reference scoring)."""
    metrics: dict[str, Any] = {}
    tags = [b.logging_tags() for b in env_group_builders_P]
    metrics.update(_cb().compute_trajectory_metrics(trajectory_groups_P, tags))
    usage = rollout_usage(trajectory_groups_P)
    for group in trajectory_groups_P[:2]:
        print_group(group, tokenizer)
    async with trace.scope_span("assemble_training_data"):
        advantages_P = compute_advantages(trajectory_groups_P)
        data_D, _ = assemble_training_data(trajectory_groups_P, advantages_P, include_provenance=include_provenance)
    if kl_penalty_coef > 0 and kl_reference_client is not None and data_D:
        async with trace.scope_span("kl_vs_base"):
            kl_metrics, kl_usage = _unpack_with_usage(
                await incorporate_kl_penalty(data_D, kl_reference_client, kl_penalty_coef, kl_discount_factor)
            )
        metrics.update(kl_metrics)
        usage += kl_usage
    return data_D, metrics, usage


async def _prepare(
    config: Config,
    builders: Sequence[EnvGroupBuilder],
    groups: list[TrajectoryGroup],
    tokenizer: Any,
    kl_reference_client: Any | None,
) -> tuple[list[Datum], dict[str, Any], TokenUsage]:
    """:func:`prepare_minibatch` with the config's KL settings (and tinkerlite's ``include_provenance``)."""
    prepared: tuple[list[Datum], dict[str, Any], TokenUsage] = await _cb().prepare_minibatch(
        builders,
        groups,
        tokenizer,
        kl_reference_client,
        kl_penalty_coef=config.kl_penalty_coef,
        kl_discount_factor=config.kl_discount_factor,
        include_provenance=getattr(config, "include_provenance", True),
    )
    return prepared


@trace.scope
async def compute_full_batch_metrics_and_get_sampling_client(
    training_client: Any,
    checkpoint_mgr: Any,
    i_batch: int,
    data_D: list[Datum],
    training_logprobs_D: list[Any],
    do_compute_post_kl: bool,
    record_stability_info: bool = False,
    usage: TokenUsage = TokenUsage(),  # noqa: B008 (the cookbook's default; TokenUsage is frozen)
    cost_tracker: CostTracker | None = None,
    sampling_client_reuse: SamplingClientReuse | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Sample-vs-train KL, the step's cost, then a sampler on the new weights (a checkpoint when due) and
    the post-update KL if asked. With ``sampling_client_reuse`` and no rollout worker left (and no
    checkpoint or post-KL due) the old sampler is returned and ``reused`` set."""
    metrics: dict[str, Any] = {}
    if data_D:
        async with trace.scope_span("compute_kl_sample_train"):
            metrics.update(compute_kl_sample_train(data_D, training_logprobs_D))
    if cost_tracker is not None:
        metrics.update(cost_tracker.record_step(usage + training_usage(data_D)))
    if (
        sampling_client_reuse is not None
        and sampling_client_reuse.rollout_workers_finished.is_set()
        and not do_compute_post_kl
        and not (i_batch > 0 and checkpoint_mgr.should_save_periodic(i_batch))
    ):
        sampling_client_reuse.reused = True
        return sampling_client_reuse.sampling_client, metrics
    sampling_client, ckpt_metrics = await _cb().save_checkpoint_and_get_sampling_client(
        training_client, checkpoint_mgr, i_batch, record_stability_info=record_stability_info, cost_tracker=cost_tracker
    )
    metrics.update(ckpt_metrics)
    if do_compute_post_kl and data_D:
        async with trace.scope_span("compute_post_kl"):
            post_metrics, post_usage = _unpack_with_usage(await compute_post_kl(data_D, sampling_client))
        metrics.update(post_metrics)
        if cost_tracker is not None:
            metrics.update(cost_tracker.extend_step(post_usage))
    return sampling_client, metrics


@trace.scope
async def do_train_step_and_get_sampling_client(
    config: Config,
    i_batch: int,
    training_client: Any,
    checkpoint_mgr: Any,
    kl_reference_client: Any | None,
    tokenizer: Any,
    env_group_builders_P: Sequence[EnvGroupBuilder],
    trajectory_groups_P: list[TrajectoryGroup],
    cost_tracker: CostTracker | None = None,
    sampling_client_reuse: SamplingClientReuse | None = None,
) -> tuple[Any, dict[str, Any]]:
    """The non-streaming step: :func:`prepare_minibatch`, :func:`train_step`, then
    :func:`compute_full_batch_metrics_and_get_sampling_client` (checkpoint named ``i_batch + 1``)."""
    trace.update_scope_context({"step": i_batch})
    metrics: dict[str, Any] = {}
    data_D, prep_metrics, usage = await _prepare(
        config, env_group_builders_P, trajectory_groups_P, tokenizer, kl_reference_client
    )
    metrics.update(prep_metrics)
    logprobs, loss_sum = await _pipelined_train(
        data_D,
        training_client,
        config.learning_rate,
        config.num_substeps,
        config.training_loss_fn(),
        config.loss_fn_config,
        metrics,
    )
    _record_loss_sum(loss_sum, data_D)
    sampling_client, full = await _cb().compute_full_batch_metrics_and_get_sampling_client(
        training_client,
        checkpoint_mgr,
        i_batch + 1,
        data_D,
        logprobs,
        config.compute_post_kl,
        record_stability_info=config.records_stability_info(),
        usage=usage,
        cost_tracker=cost_tracker,
        sampling_client_reuse=sampling_client_reuse,
    )
    metrics.update(full)
    return sampling_client, metrics


# tinkerlite's loops run with a hooks object here (see _train_loops); cookbook callers run without one.
_RUN_HOOKS: ContextVar[Any | None] = ContextVar("tinkerlite_rl_run_hooks", default=None)


def _record_loss_sum(loss_sum: float, data_D: list[Datum]) -> None:
    """Hand the step's summed loss to tinkerlite's progress line (the cookbook's RL rows carry no loss)."""
    hooks = _RUN_HOOKS.get()
    if hooks is not None:
        hooks.last_loss = (loss_sum, data_D)


def _streaming_sizes(config: Config) -> tuple[int, int]:
    """(minibatches per substep, groups per minibatch), refusing batch sizes that do not divide."""
    smc = config.stream_minibatch_config
    assert smc is not None
    if smc.groups_per_batch % config.num_substeps:
        raise ValidationError(
            f"groups_per_batch={smc.groups_per_batch} must be divisible by num_substeps={config.num_substeps}",
            field="stream_minibatch_config.groups_per_batch",
        )
    per_substep = smc.groups_per_batch // config.num_substeps
    if per_substep % smc.num_minibatches:
        raise ValidationError(
            f"{per_substep} groups per substep must be divisible by num_minibatches={smc.num_minibatches}",
            field="stream_minibatch_config.num_minibatches",
        )
    return smc.num_minibatches, per_substep // smc.num_minibatches


@trace.scope
async def do_train_step_streaming_and_get_sampling_client(
    config: Config,
    i_batch: int,
    trajectory_groups_queue: asyncio.Queue[Any],
    training_client: Any,
    checkpoint_mgr: Any,
    kl_reference_client: Any | None,
    tokenizer: Any,
    trajectory_group_filter: Callable[[WrappedTrajectoryGroup | None], bool] = lambda _: True,
    cost_tracker: CostTracker | None = None,
) -> tuple[Any | None, dict[str, Any], list[WrappedTrajectoryGroup]] | None:
    """Train as minibatches fill from ``trajectory_groups_queue``: one ``forward_backward`` per minibatch
    of ``groups_per_batch / num_substeps / num_minibatches`` groups, one ``optim_step`` per substep.

    ``None`` items (filtered groups) count towards a minibatch and are dropped from it. Returns (sampler,
    metrics, groups trained); the sampler is None when every group was filtered out. A ``_Shutdown``
    sentinel ends the step early (what arrived is trained) and is put back; the function returns None if
    it came before any group.
    """
    num_minibatches, groups_per_minibatch = _streaming_sizes(config)
    trace.update_scope_context({"step": i_batch})
    loss_fn = config.training_loss_fn()
    metrics: dict[str, Any] = {}
    usage = TokenUsage()
    all_data: list[Datum] = []
    all_logprobs: list[Any] = []
    all_groups: list[WrappedTrajectoryGroup] = []
    loss_sum = 0.0
    shutting_down = False
    for i_substep in range(config.num_substeps):
        pending: list[WrappedTrajectoryGroup | None] = []
        futures: list[Any] = []
        i_minibatch = 0
        while i_minibatch < num_minibatches:
            item = await trajectory_groups_queue.get()
            if isinstance(item, _Shutdown):
                logger.info("[do_train_step_streaming] Received shutdown signal")
                trajectory_groups_queue.put_nowait(item)  # for the next call
                shutting_down = True
                if not pending:
                    break
            else:
                if not trajectory_group_filter(item):
                    continue
                pending.append(item)
                if len(pending) < groups_per_minibatch:
                    continue
            groups = [g for g in pending if g is not None]
            pending = []
            i_minibatch += 1
            if shutting_down:
                i_minibatch = num_minibatches
            if not groups:
                continue
            logger.info(
                "[stream_minibatch] Step %d, Substep %d/%d, Minibatch %d/%d: Will train on minibatch, num groups: %d",
                i_batch,
                i_substep,
                config.num_substeps,
                i_minibatch - 1,
                num_minibatches,
                len(groups),
            )
            data_D, prep_metrics, mb_usage = await _prepare(
                config,
                [g.env_group_builder for g in groups],
                [g.trajectory_group for g in groups],
                tokenizer,
                kl_reference_client,
            )
            metrics.update(prep_metrics)
            usage += mb_usage
            _check_provenance(data_D, loss_fn)
            futures.append(
                training_client.forward_backward(
                    [remove_mask(d) for d in data_D], loss_fn=loss_fn, loss_fn_config=config.loss_fn_config
                )
            )
            all_data.extend(data_D)
            all_groups.extend(groups)
        if not futures:
            if shutting_down:
                break
            continue
        optim_future = training_client.optim_step(_adam(config.learning_rate))  # same clock cycle as the fwd/bwds
        for fut in futures:
            out = await _resolved(fut)
            all_logprobs.extend(_cb()._training_logprobs_from_fwd_bwd(out))
            loss_sum += float((getattr(out, "metrics", None) or {}).get("loss:sum", 0.0))
        optim_result = await _resolved(optim_future)
        if getattr(optim_result, "metrics", None):
            metrics.update(optim_result.metrics)
        if shutting_down:
            break
    if not all_groups:
        if shutting_down:
            return None
        logger.info("[stream_minibatch] Step %d: every group was filtered out, no update", i_batch)
        if cost_tracker is not None:
            metrics.update(cost_tracker.record_step(TokenUsage()))
        return None, metrics, []
    _record_loss_sum(loss_sum, all_data)
    metrics.update(_cb().compute_sampling_client_metrics(all_groups))
    metrics.update(
        _cb().compute_trajectory_metrics(
            [g.trajectory_group for g in all_groups], [g.env_group_builder.logging_tags() for g in all_groups]
        )
    )
    sampling_client, full = await _cb().compute_full_batch_metrics_and_get_sampling_client(
        training_client,
        checkpoint_mgr,
        i_batch + 1,
        all_data,
        all_logprobs,
        config.compute_post_kl,
        record_stability_info=config.records_stability_info(),
        usage=usage,
        cost_tracker=cost_tracker,
    )
    metrics.update(full)
    return sampling_client, metrics, all_groups
