"""What the RL-loop tests (test_loop, test_new_losses_loop) share: a small loop config and its metrics rows.

Their local server is the ``rl_server_url`` fixture in conftest.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tinkerlite.rl.envs.digits import DigitsDatasetBuilder
from tinkerlite.rl.train import Config

KEY = "tml-local"
MODEL = "tinkerlite/tiny-chat"


def rl_config(url: str, log_path: Path, dataset_builder: Any = None, *, n_batches: int = 8, **kw: Any) -> Config:
    """A fast loop config on the tiny model: ``env=digits`` (8 groups of 4, ``n_batches``) unless a builder is given."""
    defaults: dict[str, Any] = dict(
        log_path=str(log_path),
        model_name=MODEL,
        recipe_name="rl",
        dataset_builder=dataset_builder
        if dataset_builder is not None
        else DigitsDatasetBuilder(batch_size=8, group_size=4, n_batches=n_batches),
        learning_rate=2e-2,
        max_tokens=6,
        lora_rank=8,
        base_url=url,
        api_key=KEY,
        eval_every=0,
        save_every=0,
        show_progress=False,
    )
    defaults.update(kw)
    return Config(**defaults)


def metrics_rows(log_path: Path) -> list[dict[str, Any]]:
    """The rows of ``<log_path>/metrics.jsonl``."""
    return [json.loads(line) for line in (log_path / "metrics.jsonl").read_text().splitlines()]
