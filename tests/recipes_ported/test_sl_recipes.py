"""Cookbook 0.6.1 supervised recipes, imports rewritten, run unchanged against ``tinkerlite serve``."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import MODEL, Server, assert_falls, metrics, port_recipe, run_recipe

pytestmark = [pytest.mark.slow, pytest.mark.network_registry]


def test_sl_loop(cookbook_recipes: Path, server: Server, tmp_path: Path) -> None:
    script = port_recipe(cookbook_recipes, "sl_loop.py", tmp_path)
    log = tmp_path / "run"
    run_recipe(script, [f"model_name={MODEL}", "batch_size=16", "learning_rate=3e-3", "max_steps=6",
                        "save_every=0", f"log_path={log}"], server, tmp_path)
    assert_falls(metrics(log), "train_mean_nll")


def test_sl_basic(cookbook_recipes: Path, server: Server, tmp_path: Path) -> None:
    script = port_recipe(cookbook_recipes, "sl_basic.py", tmp_path)
    log = tmp_path / "run"
    # The blueprint fixes batch_size=128 inside its dataset builder; the stand-in No Robots has 214 train
    # rows, so each epoch is one step.
    run_recipe(script, [f"model_name={MODEL}", f"log_path={log}", "learning_rate=3e-3", "num_epochs=4",
                        "eval_every=0", "save_every=0"], server, tmp_path)
    assert_falls(metrics(log), "train_mean_nll")


def test_chat_sl(cookbook_recipes: Path, server: Server, tmp_path: Path) -> None:
    script = port_recipe(cookbook_recipes, "chat_sl/train.py", tmp_path)
    log = tmp_path / "run"
    run_recipe(script, [f"model_name={MODEL}", f"log_path={log}", "batch_size=16", "max_length=512",
                        "learning_rate=3e-3", "max_steps=6", "eval_every=0", "save_every=0",
                        "behavior_if_log_dir_exists=delete"], server, tmp_path)
    assert_falls(metrics(log), "train_mean_nll")


def test_off_policy_reasoning(cookbook_recipes: Path, server: Server, tmp_path: Path) -> None:
    script = port_recipe(cookbook_recipes, "distillation/off_policy_reasoning.py", tmp_path)
    log = tmp_path / "run"
    run_recipe(script, [f"model_name={MODEL}", "renderer_name=role_colon", f"log_path={log}", "batch_size=16",
                        "max_length=512", "learning_rate=3e-3", "max_prompts=160", "buffer_size=160",
                        "max_steps=6", "eval_every=0", "save_every=0", "behavior_if_log_dir_exists=delete"],
               server, tmp_path)
    assert_falls(metrics(log), "train_mean_nll")


def test_prompt_distillation(cookbook_recipes: Path, server: Server, tmp_path: Path) -> None:
    script = port_recipe(cookbook_recipes, "prompt_distillation/train.py", tmp_path)
    log = tmp_path / "run"
    data = Path(__file__).resolve().parents[2] / "examples" / "data" / "tiny_chat.jsonl"
    run_recipe(script, [f"model_name={MODEL}", f"file_path={data}", f"log_path={log}", "batch_size=16",
                        "max_length=512", "learning_rate=3e-3", "max_steps=6", "eval_every=0", "save_every=0",
                        "behavior_if_log_dir_exists=delete"], server, tmp_path)
    assert_falls(metrics(log), "train_mean_nll")


def test_dpo(cookbook_recipes: Path, server: Server, tmp_path: Path) -> None:
    script = port_recipe(cookbook_recipes, "preference/dpo/train.py", tmp_path)
    log = tmp_path / "run"
    run_recipe(script, [f"model_name={MODEL}", "dataset=hhh", f"log_path={log}", "batch_size=8",
                        "max_length=512", "learning_rate=3e-3", "max_steps=6", "dpo_beta=0.1",
                        "behavior_if_log_dir_exists=delete"], server, tmp_path)
    assert_falls(metrics(log), "dpo_loss")
