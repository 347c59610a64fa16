"""What the distillation ``main`` functions open before training: the logger, the optional trace, the client.

SDFT and off-policy distillation start a run the same way (as the cookbook's do): metrics under
``log_path``, a Chrome trace when ``enable_trace`` is set, and a ``ServiceClient`` named by the recipe and
session (the caller closes both); then a training client resumed from the last checkpoint, else loaded from
``load_checkpoint_path``, else a fresh LoRA client recording the renderer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["open_run", "resume_or_create_training_client"]


def open_run(config: Any) -> tuple[Any, Any]:
    """``(ml_logger, service_client)`` for ``config``'s log path, wandb names, trace flag, base URL and recipe."""
    from ..client.service_client import ServiceClient
    from ..utils.git_rev import recipe_user_metadata
    from ..utils.ml_log import setup_logging
    from ..utils.session_naming import resolve_session_display_name

    ml = setup_logging(
        config.log_path, config.wandb_project, config.wandb_name, config=config, do_configure_logging_module=False
    )
    if config.enable_trace:
        from ..utils import trace

        trace.trace_init(output_file=str(Path(config.log_path) / "trace_events.jsonl"))
    service_client = ServiceClient(
        base_url=config.base_url,
        user_metadata=recipe_user_metadata(config.recipe_name),
        display_name=resolve_session_display_name(session_name=config.session_name, wandb_name=config.wandb_name),
    )
    return ml, service_client


async def resume_or_create_training_client(service_client: Any, config: Any, renderer_name: str) -> tuple[Any, Any]:
    """``(last checkpoint record or None, training client)``: resumed with optimizer state, else loaded weights
    from ``config.load_checkpoint_path``, else a new LoRA client whose metadata names ``renderer_name``."""
    from ..checkpoint_utils import add_renderer_name_to_user_metadata, get_last_checkpoint

    resume = get_last_checkpoint(config.log_path)
    metadata: dict[str, str] = {}
    add_renderer_name_to_user_metadata(metadata, renderer_name)
    if resume is not None:
        client = await service_client.create_training_client_from_state_with_optimizer(resume.state_path)
    elif config.load_checkpoint_path:
        client = await service_client.create_training_client_from_state(config.load_checkpoint_path)
    else:
        client = await service_client.create_lora_training_client(
            config.model_name, rank=config.lora_rank, user_metadata=metadata
        )
    return resume, client
