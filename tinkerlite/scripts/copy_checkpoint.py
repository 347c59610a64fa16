"""Deprecated (use ``ServiceClient.copy_weights()``): copy a trainable checkpoint into this account.

Loads the source ``tinker://.../weights/<name>`` checkpoint into a new training run owned by the caller
(``--source-access-token`` / ``SRC_TINKER_ACCESS_TOKEN`` for a cross-org source) and saves it again, as
sampler weights (default) or, with ``--output-kind training``, as a trainable checkpoint::

    python -m tinkerlite.scripts.copy_checkpoint --source-path tinker://<run-id>:train:0/weights/<name>

The cookbook checks that the installed ``tinker`` SDK is >= 0.19; tinkerlite's client is the 0.38 surface,
so there is nothing to check.
"""

from __future__ import annotations

import argparse
import os
import re

import tinkerlite as tinker
from tinkerlite.scripts._cli import run_script
from tinkerlite.utils.deprecation import warn_deprecated

__all__ = ["CHECKPOINT_NAME_RE", "TRAINING_WEIGHTS_PATH_RE", "checkpoint_name_from_path", "copy_checkpoint", "main"]

CHECKPOINT_NAME_RE = re.compile(r"/weights/([^/]+)$")
TRAINING_WEIGHTS_PATH_RE = re.compile(r"/weights/[^/]+$")


def copy_checkpoint(
    source_path: str,
    source_access_token: str | None,
    destination_project_id: str | None,
    output_name: str | None,
    output_kind: str,
) -> None:
    """Copy ``source_path`` into a new destination-owned checkpoint and print its path."""
    warn_deprecated(
        "copy_checkpoint",
        message="Use ServiceClient.copy_weights() instead. This script will be removed in a future release.",
    )
    if not TRAINING_WEIGHTS_PATH_RE.search(source_path):
        raise SystemExit(
            f"Source path must be a tinker://.../weights/<name> checkpoint, got {source_path!r}. Sampler "
            "checkpoints cannot be copied directly; use the matching weights/... path."
        )
    name = output_name or checkpoint_name_from_path(source_path)
    service = tinker.ServiceClient(project_id=destination_project_id)
    try:
        training_client = service.create_training_client_from_state(
            source_path,
            weights_access_token=source_access_token,
            user_metadata={"copied_from_path": source_path},
        ).result()
        if output_kind == "training":
            print(f"training_path: {training_client.save_state(name).result().path}")
        elif output_kind == "sampler":
            print(f"sampler_path:  {training_client.save_weights_for_sampler(name).result().path}")
    finally:
        service.close()


def checkpoint_name_from_path(source_path: str) -> str:
    """The ``<name>`` of a ``.../weights/<name>`` path."""
    match = CHECKPOINT_NAME_RE.search(source_path)
    if match is None:
        raise SystemExit(f"Could not derive a checkpoint name from {source_path!r}; pass --output-name.")
    return match.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--source-path", required=True)
    parser.add_argument(
        "--source-access-token",
        default=os.environ.get("SRC_TINKER_ACCESS_TOKEN"),
        help="Token that grants access to the source checkpoint. Defaults to SRC_TINKER_ACCESS_TOKEN; only "
        "needed for cross-org copies.",
    )
    parser.add_argument(
        "--destination-project-id",
        "--target-project-id",
        dest="destination_project_id",
        default=None,
        help="Project ID to save the destination checkpoint into.",
    )
    parser.add_argument(
        "--output-name",
        default=None,
        help="Checkpoint name to save in the destination account. Defaults to the source checkpoint name.",
    )
    parser.add_argument(
        "--output-kind",
        choices=["sampler", "training"],
        default="sampler",
        help="What to save in the destination account.",
    )
    args = parser.parse_args()
    run_script(
        "copy_checkpoint",
        lambda: copy_checkpoint(
            args.source_path, args.source_access_token, args.destination_project_id, args.output_name, args.output_kind
        ),
    )


if __name__ == "__main__":
    main()
