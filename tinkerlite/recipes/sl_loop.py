"""``python -m tinkerlite.recipes.sl_loop``: supervised fine-tuning as one flat, readable loop.

The same job as ``sl_basic`` without the training library's pipelining: each step renders a batch of
No Robots conversations (or ``file_path=`` JSONL of ``{"messages": [...]}``), runs ``forward_backward`` and
``optim_step``, and logs ``train_mean_nll`` to ``<log_path>/metrics.jsonl``. Resumes from the last
checkpoint in ``log_path``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .. import renderers
from ..errors import ValidationError
from ..supervised.common import compute_mean_nll
from ..supervised.data import conversation_to_datum
from ..types import AdamParams
from ..utils.config import configclass
from ._cli import LOCAL_SL, recipe_main, runs_path
from ._data import load_rows
from ._loop import finish, open_logs_and_renderer, resume_or_create_client, save_periodic
from .chat_sl.chat_datasets import BUNDLED_CHAT

__all__ = ["Config", "main"]

logger = logging.getLogger(__name__)


@configclass
class Config:
    base_url: str | None = None
    log_path: str = runs_path("sl-loop")
    model_name: str = "Qwen/Qwen3.5-9B-Base"
    batch_size: int = 128
    learning_rate: float = 1e-4
    max_length: int = 32768
    train_on_what: renderers.TrainOnWhat = renderers.TrainOnWhat.ALL_ASSISTANT_MESSAGES
    lora_rank: int = 32
    save_every: int = 20
    ttl_seconds: int | None = 604800
    max_steps: int | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    session_name: str | None = None
    file_path: str | None = None


def main(config: Config) -> None:
    ml, renderer = open_logs_and_renderer(config)
    rows = load_rows(
        "HuggingFaceH4/no_robots", "train", file_path=config.file_path, bundled=BUNDLED_CHAT,
        shape='{"messages": [...]}',
    ).shuffle(seed=0)
    n_batches = len(rows) // config.batch_size  # the last partial batch is dropped, as the cookbook does
    if n_batches == 0:
        raise ValidationError(f"batch_size: {len(rows)} rows make no full batch of {config.batch_size}")

    service, client, start = resume_or_create_client(config)
    total = n_batches if config.max_steps is None else min(n_batches, config.max_steps)
    for step in range(start, total):
        t0 = time.time()
        save_periodic(client, config, step)
        lr = config.learning_rate * max(0.0, 1.0 - step / n_batches)  # linear decay
        batch = [
            conversation_to_datum(row["messages"], renderer, config.max_length, config.train_on_what)
            for row in rows.select(range(step * config.batch_size, (step + 1) * config.batch_size))
        ]
        fwd = client.forward_backward(batch, loss_fn="cross_entropy")
        opt = client.optim_step(AdamParams(learning_rate=lr, beta1=0.9, beta2=0.95, eps=1e-8))
        out, opt_out = fwd.result(), opt.result()
        metrics: dict[str, Any] = dict(opt_out.metrics or {})
        metrics.update(
            num_sequences=len(batch),
            num_tokens=sum(d.model_input.length for d in batch),
            learning_rate=lr,
            train_mean_nll=compute_mean_nll(
                [o["logprobs"] for o in out.loss_fn_outputs], [d.loss_fn_inputs["weights"] for d in batch]
            ),
            progress=step / n_batches,
            time_total=time.time() - t0,
        )
        ml.log_metrics(metrics, step=step)
        logger.info("step %d train_mean_nll %.4f", step, metrics["train_mean_nll"])
    finish(service, client, config, total)  # the batch reached: a rerun with a larger max_steps goes on from it


LOCAL_DEFAULTS: dict[str, Any] = {**LOCAL_SL, "learning_rate": 3e-3}

if __name__ == "__main__":
    raise SystemExit(recipe_main("sl_loop", __doc__ or "", Config, main, local_defaults=LOCAL_DEFAULTS))
