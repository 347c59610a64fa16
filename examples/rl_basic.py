"""Reinforcement learning in a dozen lines: the library form of ``python -m tinkerlite rl``.

Runs against an embedded local server with the built-in tiny model by default, on the task it can
learn in seconds (reply with digits only). To use the real service, set TINKER_BASE_URL /
TINKER_API_KEY and pick a real model, e.g. ``python examples/rl_basic.py Qwen/Qwen3-4B-Instruct-2507``,
which trains on the cookbook's arithmetic environment instead.
"""

from __future__ import annotations

import sys
import tempfile

from tinkerlite.local_endpoint import endpoint
from tinkerlite.rl import train
from tinkerlite.rl.envs.arithmetic import ArithmeticDatasetBuilder
from tinkerlite.rl.envs.digits import DigitsDatasetBuilder
from tinkerlite.rl.types import RLDatasetBuilder


def main(model_name: str = "tinkerlite/tiny-chat") -> None:
    tiny = model_name == "tinkerlite/tiny-chat"
    builder: RLDatasetBuilder
    if tiny:
        builder = DigitsDatasetBuilder(batch_size=8, group_size=4, n_batches=10)
    else:
        from tinkerlite.model_info import get_recommended_renderer_name

        renderer = get_recommended_renderer_name(model_name)
        builder = ArithmeticDatasetBuilder(
            batch_size=32, model_name_for_tokenizer=model_name, renderer_name=renderer, n_batches=50, group_size=8
        )
    with endpoint(None) as (base_url, api_key):
        config = train.Config(
            log_path=tempfile.mkdtemp(prefix="rl-basic-"),
            model_name=model_name,
            dataset_builder=builder,
            learning_rate=2e-2 if tiny else 4e-5,
            max_tokens=6 if tiny else 16,
            eval_every=5,
            base_url=base_url,
            api_key=api_key,
        )
        summary = train.run(config)
    rewards = summary["reward_history"]
    print(f"mean reward {rewards[0]:.3f} -> {rewards[-1]:.3f} over {len(rewards)} steps; logs in {config.log_path}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
