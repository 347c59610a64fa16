"""``python -m tinkerlite.recipes.rl_loop``: GRPO-style RL on GSM8K as one flat loop, no training library.

Each step samples ``group_size`` answers per question from the current weights, rewards a correct
``\\boxed{}`` answer with 1, centres rewards within each group, and trains on the sampled tokens with
``loss_fn`` (``stable_reinforce`` by default: each datum names the sampled sequence behind it).
Questions come from GSM8K (``datasets``), ``file_path=`` JSONL of ``{"question", "answer": "... #### N"}``,
or the bundled ``tiny_gsm8k.jsonl``. Logs ``reward/total`` per step to ``<log_path>/metrics.jsonl``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

from .. import renderers
from ..errors import ValidationError
from ..types import (
    AdamParams,
    Datum,
    EncodedTextChunk,
    ModelInput,
    PromptProvenanceSpan,
    SampledProvenanceSpan,
    SamplingParams,
    TensorData,
)
from ..utils.config import configclass
from ._cli import LOCAL_RL, recipe_main, runs_path
from ._data import load_rows
from ._loop import finish, open_logs_and_renderer, resume_or_create_client, save_periodic
from .math_rl.math_env import MathEnv, extract_gsm8k_final_answer
from .math_rl.math_grading import extract_boxed, grade_answer

__all__ = ["Config", "get_reward", "main", "with_sampled_provenance"]

logger = logging.getLogger(__name__)

QUESTION_SUFFIX = " Provide a numerical answer without units, written inside \\boxed{}."


@configclass
class Config:
    base_url: str | None = None
    log_path: str = runs_path("rl-loop")
    model_name: str = "Qwen/Qwen3.5-9B-Base"
    batch_size: int = 128
    group_size: int = 16
    learning_rate: float = 4e-5
    lora_rank: int = 32
    save_every: int = 20
    max_tokens: int = 256
    loss_fn: Literal["importance_sampling", "cispo", "gspo", "stable_reinforce"] = "stable_reinforce"
    ttl_seconds: int | None = 604800
    max_steps: int | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    file_path: str | None = None


def get_reward(response: str, answer: str) -> float:
    try:
        return 1.0 if grade_answer(extract_boxed(response), extract_gsm8k_final_answer(answer)) else 0.0
    except ValueError:
        return 0.0


def with_sampled_provenance(datum: Datum, prompt_length: int, num_sampled: int, sequence_id: str) -> Datum:
    """Input = prompt + all but the last sampled token; targets = the same shifted by one."""
    return datum.with_provenance(
        model_input=[
            PromptProvenanceSpan(sequence_id=sequence_id, length=prompt_length),
            SampledProvenanceSpan(sequence_id=sequence_id, length=num_sampled - 1),
        ],
        loss_fn_inputs=[
            PromptProvenanceSpan(sequence_id=sequence_id, offset=1, length=prompt_length - 1),
            SampledProvenanceSpan(sequence_id=sequence_id, length=num_sampled),
        ],
    )


def _datum(prompt: ModelInput, tokens: list[int], logprobs: list[float], advantage: float, loss_fn: str) -> Datum:
    ob = prompt.length - 1
    model_input = prompt.append(EncodedTextChunk(tokens=tokens[:-1]))
    inputs = {
        "target_tokens": TensorData.from_list([0] * ob + tokens, "int64"),
        "logprobs": TensorData.from_list([0.0] * ob + logprobs, "float32"),
        "advantages": TensorData.from_list([0.0] * ob + [advantage] * (model_input.length - ob), "float32"),
    }
    if loss_fn == "gspo":
        inputs["sequence_ratio_mask"] = TensorData.from_list([0.0] * ob + [1.0] * len(tokens), "float32")
    return Datum(model_input=model_input, loss_fn_inputs=inputs)


def main(config: Config) -> None:
    ml, renderer = open_logs_and_renderer(config)
    rows = load_rows("openai/gsm8k", "train", config_name="main", file_path=config.file_path,
                     bundled="tiny_gsm8k.jsonl", shape='{"question", "answer": "... #### N"}')
    prefix = MathEnv.standard_fewshot_prefix()
    n_batches = len(rows) // config.batch_size
    if n_batches == 0:
        raise ValidationError(f"batch_size: {len(rows)} questions make no full batch of {config.batch_size}")
    service, client, start = resume_or_create_client(config)
    params = SamplingParams(max_tokens=config.max_tokens, stop=renderer.get_stop_sequences())
    adam = AdamParams(learning_rate=config.learning_rate, beta1=0.9, beta2=0.95, eps=1e-8)
    total = n_batches if config.max_steps is None else min(n_batches, config.max_steps)
    for step in range(start, total):
        t0 = time.time()
        metrics: dict[str, Any] = {"progress/batch": step, "optim/lr": config.learning_rate,
                                   "progress/done_frac": (step + 1) / n_batches}
        save_periodic(client, config, step)
        batch = rows.select(range(step * config.batch_size, (step + 1) * config.batch_size))
        sampler = client.save_weights_and_get_sampling_client(
            record_stability_info=config.loss_fn == "stable_reinforce"
        ).result()
        prompts = [renderer.build_generation_prompt([*prefix, {"role": "user", "content": q + QUESTION_SUFFIX}])
                   for q in batch["question"]]
        futures = [sampler.sample(prompt=p, num_samples=config.group_size, sampling_params=params) for p in prompts]
        data: list[Datum] = []
        mean_rewards: list[float] = []
        for fut, prompt, answer in zip(futures, prompts, batch["answer"], strict=True):
            seqs = fut.result().sequences
            rewards = [get_reward(renderers.get_text_content(renderer.parse_response(s.tokens)[0]), answer)
                       for s in seqs]
            mean = sum(rewards) / len(rewards)
            mean_rewards.append(mean)
            if all(r == mean for r in rewards):
                continue  # no signal: every answer in the group scored the same
            for s, r in zip(seqs, rewards, strict=True):
                assert s.logprobs is not None
                d = _datum(prompt, list(s.tokens), list(s.logprobs), r - mean, config.loss_fn)
                if config.loss_fn == "stable_reinforce":
                    d = with_sampled_provenance(d, prompt.length, len(s.tokens), str(s.sequence_id))
                data.append(d)
        if data:
            fwd = client.forward_backward(data, loss_fn=config.loss_fn)
            opt = client.optim_step(adam)
            fwd.result()
            metrics.update(opt.result().metrics or {})
        else:
            logger.warning("batch %d: every group's rewards were equal; no training step", step)
        metrics["time/total"] = time.time() - t0
        metrics["reward/total"] = sum(mean_rewards) / len(mean_rewards)
        ml.log_metrics(metrics, step=step)
    finish(service, client, config, total)  # the batch reached: a rerun with a larger max_steps goes on from it


LOCAL_DEFAULTS: dict[str, Any] = {**LOCAL_RL, "batch_size": 8, "group_size": 4, "learning_rate": 1e-3}

if __name__ == "__main__":
    raise SystemExit(recipe_main("rl_loop", __doc__ or "", Config, main, local_defaults=LOCAL_DEFAULTS))
