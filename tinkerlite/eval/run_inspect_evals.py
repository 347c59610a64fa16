"""The cookbook's ``eval.run_inspect_evals``: run inspect_ai tasks on a checkpoint or a base model.

``python -m tinkerlite.eval.run_inspect_evals model_path=tinker://... tasks=inspect_evals/gsm8k`` (or
``model_name=... renderer_name=...``). The base model comes from the checkpoint's training run when not
given (an explicit one must match it); the renderer from the checkpoint's metadata, else the model's
recommended one. The service is ``$TINKER_BASE_URL`` / ``$TINKER_API_KEY``, as with the cookbook; point
``TINKER_BASE_URL`` at ``tinkerlite serve`` to run offline. Needs the ``inspect`` extra.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import typing
from collections.abc import Sequence
from typing import Any

import tinkerlite as tinker

from .. import checkpoint_utils, model_info
from ..exceptions import ConfigurationError
from ..utils.config import configclass, replace
from .inspect_evaluators import InspectEvaluator, InspectEvaluatorBuilder

logger = logging.getLogger(__name__)


@configclass
class Config(InspectEvaluatorBuilder):
    model_path: str | None = None


async def main(config: Config) -> None:
    """Resolve model and renderer, sample ``config.tasks`` through an :class:`InspectEvaluator`, log metrics."""
    logging.basicConfig(level=logging.INFO)
    service_client = tinker.ServiceClient()
    model_path = config.model_path
    model_name = config.model_name
    renderer_name = config.renderer_name

    if model_path is not None:
        rest_client = service_client.create_rest_client()
        training_run = await rest_client.get_training_run_by_tinker_path(model_path)
        if model_name is not None and model_name != training_run.base_model:
            raise ConfigurationError(
                f"Model name {model_name} does not match training run base model {training_run.base_model}"
            )
        model_name = model_name or training_run.base_model
    if model_name is None:
        raise ConfigurationError("model_path or model_name must be provided")

    # Renderer precedence: explicit config > checkpoint metadata > the model's default.
    if renderer_name is None and model_path is not None:
        renderer_name = await checkpoint_utils.get_renderer_name_from_checkpoint_async(service_client, model_path)
    if renderer_name is None:
        renderer_name = model_info.get_recommended_renderer_name(model_name)

    config = replace(config, model_name=model_name, renderer_name=renderer_name)
    logger.info(f"Using base model: {config.model_name}")
    logger.info(f"Using renderer: {config.renderer_name}")

    sampling_client = service_client.create_sampling_client(
        model_path=config.model_path, base_model=config.model_name
    ).result()
    logger.info(f"Running inspect evaluation for tasks: {config.tasks}")
    metrics = await InspectEvaluator(config)(sampling_client)
    logger.info("Inspect evaluation completed!")
    logger.info("Results:")
    for name, value in metrics.items():
        logger.info(f"  {name}: {value}")


def _cli(argv: Sequence[str]) -> int:
    """``key=value`` command line over :class:`Config`'s fields (``tasks=a,b`` is a list; ``metadata=k:v,...``)."""
    import inspect

    from ..cli_utils import Option, run_cli

    hints = typing.get_type_hints(Config)
    params = inspect.signature(Config).parameters
    options = [
        Option(name, hints[name], None if params[name].default is inspect.Parameter.empty else params[name].default)
        for name in hints
    ]

    def run(values: dict[str, Any]) -> int:
        tasks = [t.strip() for t in str(values.pop("tasks") or "").split(",") if t.strip()]
        if not tasks:
            raise ConfigurationError("tasks= is required (inspect task names or file.py@task, comma separated)")
        if isinstance(values.get("metadata"), str):
            values["metadata"] = dict(kv.split(":", 1) for kv in values["metadata"].split(",") if ":" in kv)
        asyncio.run(main(Config(tasks=tasks[0] if len(tasks) == 1 else tasks, **values)))
        return 0

    return run_cli("python -m tinkerlite.eval.run_inspect_evals", __doc__ or "", options, argv, run)


if __name__ == "__main__":
    raise SystemExit(_cli(sys.argv[1:]))
