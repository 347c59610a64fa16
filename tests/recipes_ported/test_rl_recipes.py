"""Cookbook 0.6.1 RL recipes, imports rewritten, run unchanged against ``tinkerlite serve``."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

from .conftest import MODEL, Server, assert_rises, metrics, port_recipe, run_recipe, warm_start

pytestmark = [pytest.mark.slow, pytest.mark.network_registry]

FEWSHOT = [
    {"role": "user", "content": "How many r's are in strawberry? Write your answer in \\boxed{} format."},
    {"role": "assistant", "content": "Let's spell the word out and number all the letters: 1) s 2) t 3) r 4) a "
     "5) w 6) b 7) e 8) r 9) r 10) y. We have r's at positions 3, 8, and 9. \\boxed{3}"},
]


@pytest.fixture(scope="session")
def boxed_sums_state(server: Server) -> str:
    """The tiny model after a short SFT on "What is a plus b?" -> "\\boxed{a+b}" (the stand-in GSM8K's task)."""
    rng = random.Random(1)
    convos = []
    for _ in range(256):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        convos.append([*FEWSHOT, {"role": "user", "content": f"What is {a} plus {b}? Write your answer in \\boxed{{}} format."},
                       {"role": "assistant", "content": f"\\boxed{{{a + b}}}"}])
    return warm_start(server, convos, steps=30)


def test_math_rl(cookbook_recipes: Path, server: Server, tmp_path: Path, boxed_sums_state: str) -> None:
    script = port_recipe(cookbook_recipes, "math_rl/train.py", tmp_path)
    log = tmp_path / "run"
    # loss_fn stays at the recipe's default (stable_reinforce).
    run_recipe(script, [f"model_name={MODEL}", "env=gsm8k", f"load_checkpoint_path={boxed_sums_state}",
                        "groups_per_batch=16", "group_size=8", "max_tokens=12", "learning_rate=2e-3",
                        "max_steps=6", "eval_every=0", "save_every=0", f"log_path={log}",
                        "behavior_if_log_dir_exists=delete"], server, tmp_path)
    assert_rises(metrics(log), "env/all/reward/total")


def test_rl_basic(cookbook_recipes: Path, server: Server, tmp_path: Path, boxed_sums_state: str) -> None:
    script = port_recipe(cookbook_recipes, "rl_basic.py", tmp_path)
    log = tmp_path / "run"
    # The blueprint fixes 128 groups of 16 in its dataset builder (nested keys of a value cannot be overridden
    # in chz), so the stand-in GSM8K is cut to 18 training questions: one batch per epoch.
    run_recipe(script, [f"model_name={MODEL}", f"load_checkpoint_path={boxed_sums_state}", "max_tokens=12",
                        "learning_rate=2e-3", "num_epochs=5", "save_every=0", f"log_path={log}"], server, tmp_path,
               env={"STANDIN_GSM8K_ROWS": "24"})
    assert_rises(metrics(log), "env/all/reward/total")


@pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                    reason="the cookbook's rl_loop.py imports torch (TensorData.from_torch); torch is not installed")
def test_rl_loop(cookbook_recipes: Path, server: Server, tmp_path: Path) -> None:
    script = port_recipe(cookbook_recipes, "rl_loop.py", tmp_path)
    log = tmp_path / "run"
    run_recipe(script, [f"model_name={MODEL}", "batch_size=8", "group_size=8", "max_tokens=12",
                        "learning_rate=2e-3", "max_steps=6", "save_every=0", f"log_path={log}"], server, tmp_path)
    assert_rises(metrics(log), "reward/total")
