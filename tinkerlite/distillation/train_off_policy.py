"""Off-policy distillation with soft targets (the cookbook's ``distillation.train_off_policy``).

The student trains on fixed supervised data (an SFT mix). For every datum the teacher scores the full
sequence once (``topk_prompt_logprobs=n_teacher_targets``), and at each trained position its top-K
tokens, renormalised over those K, become the soft targets of a ``cross_entropy`` with ``(N, K)``
``target_tokens`` / ``weights`` (positions the datum does not train get weight 0). No student sampling.

Several domains can each have their own teacher (``dataset_configs``): each batch takes a fixed share of
``batch_size`` from every domain (by ``weight``; the last domain gets the remainder) and routes each datum
to its domain's teacher; teacher requests run concurrently (``teacher_concurrency``). A teacher that
returns no top-k logprobs leaves that datum on its hard targets (logged). Checkpoints record the next batch,
so a resumed run continues there; metrics rows of re-run batches are dropped first.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from pathlib import Path
from typing import Any

from ..checkpoint_utils import _StepCheckpointer
from ..exceptions import ConfigurationError
from ..supervised.types import SupervisedDataset, SupervisedDatasetBuilder
from ..types import AdamParams, Datum, SamplingParams, TensorData
from ..utils.config import configclass, field
from ._run import open_run, resume_or_create_training_client
from .datasets import TeacherConfig

__all__ = ["Config", "DatasetWithTeacher", "main"]

logger = logging.getLogger(__name__)


@configclass
class DatasetWithTeacher:
    """One domain: its supervised data, the teacher that scores it, and its share of each batch."""

    dataset_builder: SupervisedDatasetBuilder
    teacher_config: TeacherConfig
    weight: float = 1.0


@configclass
class Config:
    """The cookbook's off-policy distillation config (names and defaults)."""

    learning_rate: float
    dataset_configs: list[DatasetWithTeacher]
    model_name: str
    recipe_name: str
    log_path: str = field(munger=lambda _, s: str(Path(s).expanduser()))
    renderer_name: str | None = None
    lora_rank: int = 32
    n_teacher_targets: int = 20
    teacher_concurrency: int = 64
    batch_size: int = 64
    save_every: int = 10
    eval_every: int = 20
    max_steps: int | None = None
    load_checkpoint_path: str | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    base_url: str | None = None
    ttl_seconds: int | None = 604800
    enable_trace: bool = False
    evaluator_builders: list[Any] = field(default_factory=list)


def soft_target_datum(datum: Datum, topk_rows: list[Any], n_teacher_targets: int) -> Datum:
    """``datum`` with its hard targets replaced by the teacher's renormalised top-K at each position.

    ``topk_rows`` is the teacher's ``topk_prompt_logprobs`` for ``model_input + [last target]``: one row
    per prompt position, the target of position ``t`` being scored at row ``t + 1``.
    """
    targets = [int(t) for t in datum.loss_fn_inputs["target_tokens"].tolist()]
    weights = [float(w) for w in datum.loss_fn_inputs["weights"].tolist()]
    n, k = len(targets), n_teacher_targets
    rows = topk_rows[len(topk_rows) - n :]
    tok_out: list[int] = []
    w_out: list[float] = []
    for row, w in zip(rows, weights, strict=True):
        if row is None:
            raise ValueError("teacher returned no top-k logprobs for a target position")
        entries = list(row)[:k]
        toks = [int(t) for t, _ in entries] + [int(entries[0][0])] * (k - len(entries))
        lps = [float(lp) for _, lp in entries] + [-math.inf] * (k - len(entries))
        top = max(lps)
        z = sum(math.exp(lp - top) for lp in lps)
        probs = [math.exp(lp - top) / z if w > 0 else 0.0 for lp in lps]
        tok_out += toks
        w_out += probs
    return Datum(
        model_input=datum.model_input,
        loss_fn_inputs={
            "target_tokens": TensorData(data=tok_out, dtype="int64", shape=[n, k]),
            "weights": TensorData(data=w_out, dtype="float32", shape=[n, k]),
        },
    )


async def _teacher_targets(client: Any, datum: Datum, n_teacher_targets: int) -> Datum:
    targets = datum.loss_fn_inputs["target_tokens"].tolist()
    full = datum.model_input.append_int(int(targets[-1]))
    resp = await client.sample_async(
        full,
        num_samples=1,
        sampling_params=SamplingParams(max_tokens=1),
        include_prompt_logprobs=True,
        topk_prompt_logprobs=n_teacher_targets,
    )
    if resp.topk_prompt_logprobs is None:
        logger.warning("Teacher returned no prompt logprobs, falling back to hard targets")
        return datum
    return soft_target_datum(datum, list(resp.topk_prompt_logprobs), n_teacher_targets)


class _CompositeSupervisedDataset:
    """Batch ``i``: the first ``count_d`` datums of every domain's batch ``i``, tagged with the domain."""

    def __init__(self, datasets: list[SupervisedDataset], weights: list[float], batch_size: int) -> None:
        if batch_size < len(weights):
            raise ConfigurationError(f"batch_size ({batch_size}) must be >= number of domains ({len(weights)})")
        total = sum(weights)
        self._datasets = datasets
        self._counts: list[int] = []
        remaining = batch_size
        for i, w in enumerate(weights):
            c = remaining if i == len(weights) - 1 else max(1, round(batch_size * w / total))
            self._counts.append(c)
            remaining -= c
        self._length = min(len(d) for d in datasets) if datasets else 0

    def get_batch(self, index: int) -> tuple[list[Datum], list[int]]:
        datums: list[Datum] = []
        domains: list[int] = []
        for d, (ds, count) in enumerate(zip(self._datasets, self._counts, strict=True)):
            chosen = ds.get_batch(index)[:count]
            datums += chosen
            domains += [d] * len(chosen)
        return datums, domains

    def __len__(self) -> int:
        return self._length


async def main(config: Config) -> dict[str, Any]:
    """Train; returns ``{"losses": [...], "final_checkpoint": record or None}``."""
    if not config.dataset_configs:
        raise ConfigurationError("At least one dataset_config is required")
    if config.n_teacher_targets < 1:
        raise ConfigurationError(f"n_teacher_targets must be >= 1, got {config.n_teacher_targets}")
    ml, service_client = open_run(config)
    try:
        return await _train(config, service_client, ml)
    finally:
        ml.close()
        service_client.close()


async def _train(config: Config, service_client: Any, ml: Any) -> dict[str, Any]:
    from ..model_info import get_recommended_renderer_name

    resume, training_client = await resume_or_create_training_client(
        service_client, config, config.renderer_name or get_recommended_renderer_name(config.model_name)
    )
    teachers: list[Any] = []
    datasets: list[SupervisedDataset] = []
    for dc in config.dataset_configs:
        tc = dc.teacher_config
        teachers.append(
            await service_client.create_sampling_client(base_model=tc.base_model, model_path=tc.load_checkpoint_path)
        )
        train_ds, _ = dc.dataset_builder()
        datasets.append(train_ds)
    composite = _CompositeSupervisedDataset(datasets, [dc.weight for dc in config.dataset_configs], config.batch_size)
    total = len(composite) if config.max_steps is None else min(config.max_steps, len(composite))
    start = int(resume.batch or 0) if resume is not None else 0
    ml.truncate_metrics(start)
    ckpt = _StepCheckpointer(training_client, config.log_path, config.save_every, config.ttl_seconds)
    evaluators = [b() for b in config.evaluator_builders]
    sem = asyncio.Semaphore(config.teacher_concurrency)
    losses: list[float] = []

    async def soft(client: Any, datum: Datum) -> Datum:
        async with sem:
            return await _teacher_targets(client, datum, config.n_teacher_targets)

    for i_batch in range(start, total):
        metrics: dict[str, Any] = {
            "step": i_batch,
            "progress/done_frac": (i_batch + 1) / total,
            "optim/lr": config.learning_rate,
        }
        if evaluators and config.eval_every > 0 and i_batch % config.eval_every == 0:
            sampler = await training_client.save_weights_and_get_sampling_client()
            for ev in evaluators:
                value = ev(sampler)
                got = await value if inspect.isawaitable(value) else value
                metrics.update({f"test/{k}": v for k, v in got.items()})
        datums, domains = composite.get_batch(i_batch)
        metrics["batch_size"] = len(datums)
        soft_datums = await asyncio.gather(*(soft(teachers[d], x) for d, x in zip(domains, datums, strict=True)))
        fwd = training_client.forward_backward(list(soft_datums), loss_fn="cross_entropy")
        opt = training_client.optim_step(AdamParams(learning_rate=config.learning_rate))
        result = await fwd
        await opt
        train_metrics = dict(getattr(result, "metrics", None) or {})
        metrics.update({f"train/{k}": v for k, v in train_metrics.items()})
        if "loss:sum" in train_metrics:
            losses.append(float(train_metrics["loss:sum"]))
        applied = i_batch + 1
        save = (
            ckpt.submit_periodic(applied, {"batch": applied}) if ckpt.should_save(applied) and applied < total else None
        )
        ml.log_metrics(metrics, step=i_batch)
        if save is not None:
            await asyncio.to_thread(save.finish_or_warn)
    final = None
    if start < total:
        final = await asyncio.to_thread(ckpt.save_final, {"batch": total})
    logger.info("Off-policy distillation completed successfully")
    return {"losses": losses, "final_checkpoint": final}
