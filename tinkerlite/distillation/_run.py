"""What the distillation ``main`` functions open before training: the logger, the optional trace, the client.

SDFT and off-policy distillation start a run the same way (as the cookbook's do): metrics under
``log_path``, a Chrome trace when ``enable_trace`` is set, and a ``ServiceClient`` named by the recipe and
session; the caller closes both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["open_run"]


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
