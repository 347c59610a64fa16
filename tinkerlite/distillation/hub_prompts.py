"""The cookbook's hub prompt loaders (``distillation.datasets.load_deepmath_prompts`` / ``load_tulu3_prompts``).

As in the cookbook, a dataset that cannot be loaded (no network, unknown split) is logged and returned as
``None``; a missing ``datasets`` package is an error naming the extra to install (the cookbook cannot even
be imported without it). Re-exported from :mod:`tinkerlite.distillation.datasets`.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from .._optional import require
from ..errors import MissingExtraError

__all__ = ["load_deepmath_prompts", "load_tulu3_prompts"]

logger = logging.getLogger(__name__)


def _load(repo: str, split: str, feature: str) -> Any:
    datasets = require("datasets", feature, "datasets")
    return datasets.load_dataset(repo, split=split)


def load_deepmath_prompts(split: Literal["train", "test"] = "train") -> list[str] | None:
    """DeepMath-103K's ``question`` column, or ``None`` when the split cannot be loaded."""
    try:
        return [row["question"] for row in _load("zwhe99/DeepMath-103K", split, "load_deepmath_prompts")]
    except MissingExtraError:
        raise
    except Exception as e:
        logger.warning(f"Could not load {split} split for DeepMath: {e}")
        return None


def first_user_message(messages: Any) -> str | None:
    """The content of the first ``user`` message, if any."""
    for msg in messages:
        if msg["role"] == "user":
            return str(msg["content"]) if msg["content"] else None
    return None


def load_tulu3_prompts() -> list[str] | None:
    """The first user message of each Tulu 3 SFT conversation, or ``None`` when it cannot be loaded."""
    try:
        rows = _load("allenai/tulu-3-sft-mixture", "train", "load_tulu3_prompts")
        return [p for p in (first_user_message(row["messages"]) for row in rows) if p]
    except MissingExtraError:
        raise
    except Exception as e:
        logger.warning(f"Could not load Tulu3 dataset: {e}")
        return None
