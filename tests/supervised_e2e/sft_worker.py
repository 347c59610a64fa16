"""``python -m tests.supervised_e2e.sft_worker '<json>'``: one SFT run in its own process (the one tests kill).

The JSON gives base_url, log_path, data and any ``train.Config`` overrides. The run resumes from
``log_path`` when it holds checkpoints, exactly as ``tinkerlite sl behavior_if_log_dir_exists=resume``.
"""

from __future__ import annotations

import json
import sys

from tinkerlite.supervised.train import run
from tinkerlite.utils.ml_log import check_log_dir

from .helpers import small_config


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    base_url, log_path, data = spec.pop("base_url"), spec.pop("log_path"), spec.pop("data")
    check_log_dir(log_path, "resume")
    summary = run(small_config(log_path, data, base_url, **spec))
    print(json.dumps({k: v for k, v in summary.items() if k != "training_client"}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
