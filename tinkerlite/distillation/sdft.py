"""Self-Distillation Fine-Tuning (the cookbook's ``distillation.sdft``; Shenfeld et al., 2026).

The teacher is the frozen base model prompted with the question *and* a golden answer as an in-context
demonstration (``demo_template``); the student sees only the question and samples on-policy. The student's
completion is then teacher-forced after the teacher's prompt and the teacher's view of each completion
token becomes the training signal:

* ``topk > 0`` (default): the teacher's top-K distribution at each completion position, renormalised over
  the K, is the soft target of ``cross_entropy`` (``(N, K)`` targets; the first ``skip_first_n_tokens``
  completion positions and token ids ``>= vocab_size`` are left out);
* ``topk > 0, reverse=True``: the analytic reverse KL ``Σ_k p_k (log p_k − log q_k)`` over the teacher's
  top-K set, ``p`` the student renormalised over that set, through ``forward_backward_custom`` (gradient
  ``p_j (a_j − Σ_k p_k a_k)`` with ``a = log p − log q`` held constant);
* ``topk = 0``: per-token advantage ``teacher_lp − student_lp`` with ``loss_fn`` (``importance_sampling``).

``main(cfg, sdft_dataset)`` takes a provider whose ``get_batch(i)`` returns (env group builders,
questions, golden answers), one question per group. ``teacher_sync_every`` refreshes the teacher to the
student's current weights. Checkpoints record the next batch, so a resumed run continues there.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, cast, runtime_checkable

from ..checkpoint_utils import _StepCheckpointer
from ..types import AdamParams, Datum, ModelInput, SamplingParams, TensorData
from ..utils.config import configclass, field
from ..utils.misc_utils import split_list

__all__ = [
    "DEFAULT_DEMO_TEMPLATE",
    "Config",
    "SDFTBatchProvider",
    "build_reverse_kl_datums",
    "build_sdft_teacher_prompt",
    "build_topk_distillation_datums",
    "compute_sdft_advantages",
    "main",
    "reverse_kl_custom_loss",
]

logger = logging.getLogger(__name__)

DEFAULT_DEMO_TEMPLATE = (
    "{question}\n\n"
    "This is an example for a response to the question:\n"
    "{golden_answer}\n\n"
    "Now answer with a response of your own, including the thinking process."
)


@runtime_checkable
class SDFTBatchProvider(Protocol):
    """Batches of (env group builders, questions, golden answers), aligned by group."""

    def get_batch(self, index: int) -> tuple[Sequence[Any], list[str], list[str]]: ...

    def __len__(self) -> int: ...


def build_sdft_teacher_prompt(
    question: str,
    golden_answer: str,
    renderer: Any,
    system_prompt: str | None = None,
    demo_template: str = DEFAULT_DEMO_TEMPLATE,
) -> ModelInput:
    """The teacher's generation prompt: the question with the golden answer shown as a demonstration."""
    messages: list[dict[str, str]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": demo_template.format(question=question, golden_answer=golden_answer)})
    prompt: ModelInput = renderer.build_generation_prompt(messages)
    return prompt


def _floats(t: Any) -> list[float]:
    """A tensor's values as a flat list (row-major for 2-D ones)."""
    vals = t.tolist() if hasattr(t, "tolist") else list(t)
    return [float(v) for row in vals for v in row] if vals and isinstance(vals[0], list) else [float(v) for v in vals]


class _Forced:
    """One datum's completion teacher-forced after its group's teacher prompt."""

    def __init__(self, datum: Datum, teacher_prompt: ModelInput, max_context_length: int) -> None:
        mask = _floats(datum.loss_fn_inputs["mask"])
        self.positions_all = [i for i, m in enumerate(mask) if m > 0]
        self.prompt_len = teacher_prompt.length
        self.truncated = False
        completion: list[int] = []
        if self.positions_all:
            full = [*datum.model_input.to_ints(), int(datum.loss_fn_inputs["target_tokens"].tolist()[-1])]
            completion = full[self.positions_all[0] + 1 :]
            room = max_context_length - self.prompt_len
            if room <= 0:
                completion, self.truncated = [], True
            elif len(completion) > room:
                completion, self.truncated = completion[:room], True
        self.completion_len = len(completion)
        self.sequence = ModelInput.from_ints(teacher_prompt.to_ints() + completion) if completion else teacher_prompt

    def positions(self) -> list[tuple[int, int]]:
        """(student position, offset in the completion) of every trained position the teacher saw."""
        if not self.positions_all:
            return []
        first = self.positions_all[0]
        return [(p, p - first) for p in self.positions_all if p - first < self.completion_len]


def _forced(
    data_D: list[Datum], metadata_D: list[dict[str, int]], prompts_P: list[ModelInput], ctx: int
) -> list[_Forced]:
    return [_Forced(d, prompts_P[m["group_idx"]], ctx) for d, m in zip(data_D, metadata_D, strict=True)]


async def compute_sdft_advantages(
    data_D: list[Datum],
    metadata_D: list[dict[str, int]],
    teacher_client: Any,
    teacher_prompts_P: list[ModelInput],
    max_context_length: int = 32768,
) -> dict[str, float]:
    """Set each datum's ``advantages`` to ``teacher_lp − student_lp`` on its completion (in place)."""
    forced = _forced(data_D, metadata_D, teacher_prompts_P, max_context_length)
    teacher_lps = await asyncio.gather(*(teacher_client.compute_logprobs_async(f.sequence) for f in forced))
    adv_sum = mask_sum = t_sum = s_sum = 0.0
    for datum, f, t_lps in zip(data_D, forced, teacher_lps, strict=True):
        if f.completion_len == 0:
            continue
        student = _floats(datum.loss_fn_inputs["logprobs"])
        teacher = [0.0 if v is None else float(v) for v in list(t_lps)[f.prompt_len : f.prompt_len + f.completion_len]]
        adv = [0.0] * len(student)
        pos = [(p, o) for p, o in f.positions() if o < len(teacher)]
        for p, o in pos:
            adv[p] = teacher[o] - student[p]
        cast(dict[str, Any], datum.loss_fn_inputs)["advantages"] = TensorData(
            data=adv, dtype="float32", shape=[len(adv)]
        )
        mask = _floats(datum.loss_fn_inputs["mask"])
        adv_sum += sum(a * m for a, m in zip(adv, mask, strict=True))
        mask_sum += sum(mask)
        t_sum += sum(teacher[o] for _, o in pos)
        s_sum += sum(student[p] for p, _ in pos)
    metrics = {
        "sdft/teacher_truncated_count": float(sum(f.truncated for f in forced)),
        "sdft/num_datums": float(len(data_D)),
    }
    if mask_sum > 0:
        metrics.update(
            {
                "sdft/mean_advantage": adv_sum / mask_sum,
                "sdft/mean_teacher_lp": t_sum / mask_sum,
                "sdft/mean_student_lp": s_sum / mask_sum,
            }
        )
    return metrics


async def _soft_targets(
    data_D: list[Datum],
    metadata_D: list[dict[str, int]],
    teacher_client: Any,
    teacher_prompts_P: list[ModelInput],
    topk: int,
    max_context_length: int,
    vocab_size: int | None,
    skip_first_n_tokens: int,
) -> tuple[list[Datum], float, float, float, int]:
    """(datums with (N, K) teacher targets, positions filled, completion positions, entropy sum, truncated)."""
    forced = _forced(data_D, metadata_D, teacher_prompts_P, max_context_length)
    params = SamplingParams(max_tokens=1)
    responses = await asyncio.gather(
        *(
            teacher_client.sample_async(
                f.sequence,
                num_samples=1,
                sampling_params=params,
                include_prompt_logprobs=True,
                topk_prompt_logprobs=topk,
            )
            for f in forced
        )
    )
    out: list[Datum] = []
    filled = completion = entropy = 0.0
    for datum, f, resp in zip(data_D, forced, responses, strict=True):
        n = datum.model_input.length
        toks, ws = [0] * (n * topk), [0.0] * (n * topk)
        rows = resp.topk_prompt_logprobs
        pos = f.positions()
        completion += len(pos)
        for t, (p, o) in enumerate(pos):
            at = f.prompt_len + o
            if t < skip_first_n_tokens or rows is None or at >= len(rows) or rows[at] is None:
                continue
            kept = [
                (int(tok), float(lp)) for tok, lp in list(rows[at])[:topk] if vocab_size is None or tok < vocab_size
            ]
            if not kept:
                continue
            top = max(lp for _, lp in kept)
            log_z = top + math.log(sum(math.exp(lp - top) for _, lp in kept))
            for j, (tok, lp) in enumerate(kept):
                toks[p * topk + j] = tok
                ws[p * topk + j] = math.exp(lp - log_z)
                entropy -= math.exp(lp - log_z) * (lp - log_z)
            filled += 1
        out.append(
            Datum(
                model_input=datum.model_input,
                loss_fn_inputs={
                    "target_tokens": TensorData(data=toks, dtype="int64", shape=[n, topk]),
                    "weights": TensorData(data=ws, dtype="float32", shape=[n, topk]),
                },
            )
        )
    return out, filled, completion, entropy, sum(f.truncated for f in forced)


async def _soft_target_datums(
    per: Literal["completion_tokens", "completion_positions"],
    data_D: list[Datum],
    metadata_D: list[dict[str, int]],
    teacher_client: Any,
    teacher_prompts_P: list[ModelInput],
    topk: int,
    max_context_length: int,
    vocab_size: int | None,
    skip_first_n_tokens: int,
) -> tuple[list[Datum], dict[str, float]]:
    """Both soft-target builders: the datums, and metrics with the mean entropy per completion token or position."""
    datums, filled, completion, entropy, truncated = await _soft_targets(
        data_D,
        metadata_D,
        teacher_client,
        teacher_prompts_P,
        topk,
        max_context_length,
        vocab_size,
        skip_first_n_tokens,
    )
    metrics = {
        "sdft/teacher_truncated_count": float(truncated),
        "sdft/num_datums": float(len(data_D)),
        "sdft/topk": float(topk),
    }
    count = completion if per == "completion_tokens" else filled
    if count > 0:
        metrics.update({f"sdft/total_{per}": count, "sdft/mean_teacher_entropy": entropy / count})
    return datums, metrics


async def build_topk_distillation_datums(
    data_D: list[Datum],
    metadata_D: list[dict[str, int]],
    teacher_client: Any,
    teacher_prompts_P: list[ModelInput],
    topk: int = 20,
    max_context_length: int = 32768,
    vocab_size: int | None = None,
    skip_first_n_tokens: int = 3,
) -> tuple[list[Datum], dict[str, float]]:
    """Datums whose targets are the teacher's renormalised top-K at each completion position."""
    return await _soft_target_datums(
        "completion_tokens", data_D, metadata_D, teacher_client, teacher_prompts_P, topk, max_context_length,
        vocab_size,
        skip_first_n_tokens,
    )


async def build_reverse_kl_datums(
    data_D: list[Datum],
    metadata_D: list[dict[str, int]],
    teacher_client: Any,
    teacher_prompts_P: list[ModelInput],
    topk: int = 20,
    max_context_length: int = 32768,
    vocab_size: int | None = None,
    skip_first_n_tokens: int = 3,
) -> tuple[list[Datum], dict[str, float]]:
    """The same (N, K) teacher sets, for :func:`reverse_kl_custom_loss` (weights hold the teacher's q)."""
    return await _soft_target_datums(
        "completion_positions", data_D, metadata_D, teacher_client, teacher_prompts_P, topk, max_context_length,
        vocab_size,
        skip_first_n_tokens,
    )


def reverse_kl_custom_loss(
    data: list[Datum], logprobs_list: list[Any]
) -> tuple[float, dict[str, float], list[list[float]]]:
    """Reverse KL over each position's teacher set, with its gradient (tinkerlite's custom-loss contract)."""
    total = kl_sum = ent_sum = positions = 0.0
    grads: list[list[float]] = []
    for datum, lps in zip(data, logprobs_list, strict=True):
        k = int(datum.loss_fn_inputs["weights"].shape[-1])
        q = _floats(datum.loss_fn_inputs["weights"])
        lp = _floats(lps)
        g = [0.0] * len(q)
        for start in range(0, len(q), k):
            slots = [start + j for j in range(k) if q[start + j] > 0]
            if not slots:
                continue
            top = max(lp[s] for s in slots)
            log_z = top + math.log(sum(math.exp(lp[s] - top) for s in slots))
            log_p = {s: lp[s] - log_z for s in slots}
            p = {s: math.exp(v) for s, v in log_p.items()}
            a = {s: log_p[s] - math.log(q[s]) for s in slots}
            mean_a = sum(p[s] * a[s] for s in slots)
            for s in slots:
                g[s] = p[s] * (a[s] - mean_a)
            total += mean_a
            kl_sum += mean_a
            ent_sum -= sum(p[s] * log_p[s] for s in slots)
            positions += 1
        grads.append(g)
    metrics = {"sdft/reverse_kl_loss": total, "sdft/reverse_kl_positions": positions}
    if positions > 0:
        metrics.update({"sdft/reverse_kl_mean": kl_sum / positions, "sdft/student_entropy_mean": ent_sum / positions})
    return total, metrics, grads


async def _train_steps(
    data_D: list[Datum],
    training_client: Any,
    learning_rate: float,
    num_substeps: int,
    loss: Any,
    metrics: dict[str, Any],
) -> None:
    """``num_substeps`` × (forward_backward + optim_step), the next substep submitted before awaiting."""
    if not data_D:
        return
    adam = AdamParams(learning_rate=learning_rate, beta1=0.9, beta2=0.95, eps=1e-8)
    pending = []
    for part in split_list(data_D, min(num_substeps, len(data_D))):
        fwd = (
            training_client.forward_backward_custom(part, loss)
            if callable(loss)
            else training_client.forward_backward(part, loss_fn=loss)
        )
        pending.append((fwd, training_client.optim_step(adam)))
    for fwd, opt in pending:
        out = await fwd
        metrics.update(dict(getattr(out, "metrics", None) or {}))
        opt_out = await opt
        metrics.update(dict(getattr(opt_out, "metrics", None) or {}))


@configclass
class Config:
    """The cookbook's SDFT config (names and defaults)."""

    model_name: str
    recipe_name: str
    log_path: str = field(munger=lambda _, s: str(Path(s).expanduser()))
    renderer_name: str | None = None
    lora_rank: int = 128
    base_url: str | None = None
    learning_rate: float = 2e-5
    max_tokens: int = 2048
    temperature: float = 1.0
    loss_fn: str = "cross_entropy"
    topk: int = 20
    reverse: bool = False
    demo_template: str = DEFAULT_DEMO_TEMPLATE
    system_prompt: str | None = None
    teacher_sync_every: int | None = None
    max_context_length: int = 32768
    evaluator_builders: list[Any] = field(default_factory=list)
    eval_every: int = 20
    save_every: int = 20
    num_substeps: int = 1
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    load_checkpoint_path: str | None = None
    max_steps: int | None = None
    enable_trace: bool = False
    span_chart_every: int = 0


async def main(cfg: Config, sdft_dataset: SDFTBatchProvider, test_dataset: Any | None = None) -> dict[str, Any]:
    """Train with SDFT; returns ``{"metrics": [per-step metrics], "final_checkpoint": record or None}``."""
    if cfg.reverse and cfg.topk == 0:
        raise ValueError(
            "reverse=True requires topk>0: the analytical reverse KL runs over the teacher's top-K set, "
            "which doesn't exist when topk=0."
        )
    if cfg.renderer_name is None:
        raise ValueError("renderer_name must be set (resolve before calling main)")
    from ._run import open_run

    ml, service_client = open_run(cfg)
    try:
        return await _train(cfg, sdft_dataset, test_dataset, service_client, ml)
    finally:
        ml.close()
        service_client.close()


async def _train(
    cfg: Config, dataset: SDFTBatchProvider, test_dataset: Any, service_client: Any, ml: Any
) -> dict[str, Any]:
    from ..completers import TinkerTokenCompleter
    from ..renderers import get_renderer
    from ..rl.data_processing import assemble_training_data, compute_advantages, remove_mask
    from ..rl.metric_util import RLTestSetEvaluator, compute_trajectory_metrics
    from ..rl.rollouts import do_group_rollout
    from ..tokenizers import get_tokenizer

    assert cfg.renderer_name is not None
    from ._run import resume_or_create_training_client

    resume, training_client = await resume_or_create_training_client(service_client, cfg, cfg.renderer_name)
    tokenizer = get_tokenizer(cfg.model_name)
    renderer = get_renderer(cfg.renderer_name, tokenizer)
    vocab_size = tokenizer.vocab_size  # added tokens included, as the cookbook's len(tokenizer)
    total = len(dataset) if cfg.max_steps is None else min(cfg.max_steps, len(dataset))
    start = int(resume.batch or 0) if resume is not None else 0
    ml.truncate_metrics(start)
    evaluators = [b() for b in cfg.evaluator_builders]
    if test_dataset is not None:
        evaluators.append(RLTestSetEvaluator(test_dataset, max_tokens=cfg.max_tokens))
    teacher = await service_client.create_sampling_client(base_model=cfg.model_name)
    ckpt = _StepCheckpointer(training_client, cfg.log_path, cfg.save_every, None)
    history: list[dict[str, Any]] = []
    for i_batch in range(start, total):
        metrics: dict[str, Any] = {
            "progress/batch": i_batch,
            "optim/lr": cfg.learning_rate,
            "progress/done_frac": (i_batch + 1) / total,
        }
        sampler = await training_client.save_weights_and_get_sampling_client()
        if evaluators and cfg.eval_every > 0 and i_batch % cfg.eval_every == 0:
            for ev in evaluators:
                value = ev(sampler)
                got = await value if inspect.isawaitable(value) else value
                metrics.update({f"test/{k}": v for k, v in got.items()})
        builders, questions, answers = dataset.get_batch(i_batch)
        policy = TinkerTokenCompleter(sampler, cfg.max_tokens, cfg.temperature)
        groups = list(await asyncio.gather(*(do_group_rollout(b, policy) for b in builders)))
        metrics.update(compute_trajectory_metrics(groups, [b.logging_tags() for b in builders]))
        data_D, meta_D = assemble_training_data(groups, compute_advantages(groups))
        prompts = [
            build_sdft_teacher_prompt(q, a, renderer, cfg.system_prompt, cfg.demo_template)
            for q, a in zip(questions, answers, strict=True)
        ]
        args = (data_D, meta_D, teacher, prompts)
        if cfg.topk > 0 and cfg.reverse:
            datums, m = await build_reverse_kl_datums(
                *args, topk=cfg.topk, max_context_length=cfg.max_context_length, vocab_size=vocab_size
            )
            metrics.update(m)
            await _train_steps(
                datums, training_client, cfg.learning_rate, cfg.num_substeps, reverse_kl_custom_loss, metrics
            )
        elif cfg.topk > 0:
            datums, m = await build_topk_distillation_datums(
                *args, topk=cfg.topk, max_context_length=cfg.max_context_length, vocab_size=vocab_size
            )
            metrics.update(m)
            await _train_steps(datums, training_client, cfg.learning_rate, cfg.num_substeps, "cross_entropy", metrics)
        else:
            metrics.update(await compute_sdft_advantages(*args, max_context_length=cfg.max_context_length))
            await _train_steps(
                [remove_mask(d) for d in data_D],
                training_client,
                cfg.learning_rate,
                cfg.num_substeps,
                cfg.loss_fn,
                metrics,
            )
        applied = i_batch + 1
        if cfg.teacher_sync_every and applied % cfg.teacher_sync_every == 0:
            path = (await training_client.save_weights_for_sampler(f"teacher_sync_{applied}")).path
            teacher = await service_client.create_sampling_client(base_model=cfg.model_name, model_path=path)
        save = (
            ckpt.submit_periodic(applied, {"batch": applied}) if ckpt.should_save(applied) and applied < total else None
        )
        ml.log_metrics(metrics, step=i_batch)
        history.append(metrics)
        if save is not None:
            await asyncio.to_thread(save.finish_or_warn)
    final = await asyncio.to_thread(ckpt.save_final, {"batch": total}) if start < total else None
    return {"metrics": history, "final_checkpoint": final}
