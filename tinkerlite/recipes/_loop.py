"""The scaffolding ``rl_loop`` and ``sl_loop`` share around their one flat training loop.

Both open a metrics log and the model's renderer, resume from the last ``state`` checkpoint under
``log_path`` (or start a LoRA client), save a ``state`` checkpoint every ``save_every`` steps and a final
``both`` one at the end, exactly as the cookbook's two loop scripts do; each keeps its own step body.
"""

from __future__ import annotations

from typing import Any

__all__ = ["finish", "open_logs_and_renderer", "resume_or_create_client", "save_periodic"]


def open_logs_and_renderer(config: Any) -> tuple[Any, Any]:
    """``(metrics_logger, renderer)``: ``<log_path>/metrics.jsonl`` with the config logged, and the renderer."""
    from .. import model_info, renderers
    from ..tokenizer_utils import get_tokenizer
    from ..utils.ml_log import MetricsLogger

    ml = MetricsLogger(config.log_path)
    ml.log_hparams(config)
    tokenizer = get_tokenizer(config.model_name)
    renderer = renderers.get_renderer(model_info.get_recommended_renderer_name(config.model_name), tokenizer)
    return ml, renderer


def resume_or_create_client(config: Any) -> tuple[Any, Any, int]:
    """``(service, training_client, start_step)``: resumed from the last state checkpoint, else a new LoRA client."""
    from .. import checkpoint_utils
    from ..client.service_client import ServiceClient

    service = ServiceClient(base_url=config.base_url)
    resume = checkpoint_utils.get_last_checkpoint(config.log_path)
    if resume is not None and resume.state_path:
        client = service.create_training_client_from_state_with_optimizer(resume.state_path).result()
        return service, client, int(resume.get("batch", 0))
    client = service.create_lora_training_client(base_model=config.model_name, rank=config.lora_rank).result()
    return service, client, 0


def save_periodic(client: Any, config: Any, step: int) -> None:
    """A ``state`` checkpoint named by the step, every ``save_every`` steps (never at step 0)."""
    from .. import checkpoint_utils

    if config.save_every > 0 and step > 0 and step % config.save_every == 0:
        checkpoint_utils.save_checkpoint(client, f"{step:06d}", config.log_path, {"batch": step}, "state",
                                         config.ttl_seconds)


def finish(service: Any, client: Any, config: Any, n_batches: int) -> None:
    """The final ``both`` checkpoint (no TTL), then the service closed."""
    from .. import checkpoint_utils

    checkpoint_utils.save_checkpoint(client, "final", config.log_path, {"batch": n_batches}, "both", None)
    service.close()
