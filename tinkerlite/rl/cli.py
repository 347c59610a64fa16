"""``tinkerlite rl key=value ...``: reinforcement learning from the command line.

With no arguments it runs the tiny model's learnable task (``env=digits``: reply with digits only;
see :mod:`tinkerlite.rl.envs.digits` for why) on an embedded local server, and prints the mean reward
rising. ``env=arithmetic|gsm8k|guess_number`` run the other shipped environments; ``file_path=`` is
the GSM8K-style JSONL (``{"question": ..., "answer": ...}`` per line). ``max_steps_off_policy=N``
switches to the asynchronous off-policy loop.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..cli_utils import ENDPOINT_OPTIONS, Option, prepare_log_dir, run_cli
from ..errors import ValidationError
from ..local_endpoint import endpoint

__all__ = ["OPTIONS", "main"]

DEMO_MODEL = "tinkerlite/tiny-chat"
ENVS = ("digits", "arithmetic", "gsm8k", "guess_number")
_DEFAULT_MAX_TOKENS = {"digits": 6, "arithmetic": 8, "gsm8k": 256, "guess_number": 4}

OPTIONS: list[Option] = [
    Option("log_path", str, None, "run directory (default: ./runs/rl-<timestamp>)"),
    Option("env", str, "digits", "digits | arithmetic | gsm8k | guess_number"),
    Option("model_name", str, DEMO_MODEL, "base model"),
    Option("renderer_name", str | None, None, "chat renderer for arithmetic/gsm8k (default: the model's)"),
    Option("file_path", str | None, None, "gsm8k: JSONL of {question, answer} rows"),
    Option("test_size", int, 0, "gsm8k: problems held out for test/ metrics"),
    Option("batch_size", int, 8, "env groups per step"),
    Option("group_size", int, 4, "rollouts per group (rewards are centred within a group)"),
    Option("n_batches", int, 12, "steps of generated tasks (digits, arithmetic, guess_number)"),
    Option("max_steps", int | None, None, "stop after this many steps"),
    Option("learning_rate", float | None, None, "LR (default: 2e-2 for the tiny model, else 4e-5)"),
    Option("max_tokens", int | None, None, "sampled tokens per turn (default: per env)"),
    Option("temperature", float, 1.0, "sampling temperature"),
    Option("lora_rank", int, 32, "LoRA rank"),
    Option("loss_fn", str, "importance_sampling", "importance_sampling | ppo | cispo | dro | gspo | stable_reinforce"),
    Option("loss_fn_config", str | None, None, 'JSON, e.g. {"clip_low_threshold": 0.8} or {"beta": 0.05}'),
    Option("num_substeps", int, 1, "optimizer steps per batch"),
    Option("kl_penalty_coef", float, 0.0, "KL penalty against the reference model (0: off)"),
    Option("kl_discount_factor", float, 0.0, "discount of the KL penalty's future sum"),
    Option("kl_reference_model", str | None, None, "reference for the KL penalty (default: model_name)"),
    Option("compute_post_kl", bool, False, "log KL between the sampler before and after each step"),
    Option("remove_constant_reward_groups", bool, False, "drop groups whose rewards are all equal"),
    Option("eval_every", int, 4, "test rollouts every N steps (0: never)"),
    Option("save_every", int, 5, "checkpoint every N steps (0: only the final one)"),
    Option("ttl_seconds", int | None, 604800, "TTL of periodic checkpoints"),
    Option("max_steps_off_policy", int | None, None, "async off-policy loop with this staleness bound"),
    Option("groups_per_batch", int | None, None, "async: groups per step (default: batch_size)"),
    Option("error_policy", str, "fail_fast", "fail_fast | drop (drop failed rollouts, count them, go on)"),
    Option("max_turns", int | None, None, "turn limit per episode"),
    Option("seed", int | None, 0, "LoRA init and sampling seeds (none: fresh entropy)"),
    *ENDPOINT_OPTIONS,
]


def main(argv: Sequence[str]) -> int:
    return run_cli("tinkerlite rl", __doc__ or "", OPTIONS, argv, _run)


def _loss_fn_config(raw: str | None) -> dict[str, float] | None:
    if raw is None:
        return None
    try:
        cfg = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValidationError(f"must be a JSON object ({e.msg})", field="loss_fn_config") from None
    if not isinstance(cfg, dict) or not all(isinstance(v, (int, float)) for v in cfg.values()):
        raise ValidationError("must be a JSON object of numbers", field="loss_fn_config")
    return {str(k): float(v) for k, v in cfg.items()}


def build_dataset_builder(v: dict[str, Any]) -> Any:
    """The RLDatasetBuilder for ``env=`` and its options."""
    env = v["env"]
    if env not in ENVS:
        raise ValidationError(f"must be one of {', '.join(ENVS)}; got {env!r}", field="env")
    renderer_name = v["renderer_name"]
    if renderer_name is None and env in ("arithmetic", "gsm8k"):
        from ..model_info import get_recommended_renderer_name

        renderer_name = get_recommended_renderer_name(v["model_name"])
    if env == "digits":
        from .envs.digits import DigitsDatasetBuilder

        return DigitsDatasetBuilder(
            batch_size=v["batch_size"],
            group_size=v["group_size"],
            n_batches=v["n_batches"],
            model_name_for_tokenizer=v["model_name"],
        )
    if env == "arithmetic":
        from .envs.arithmetic import ArithmeticDatasetBuilder

        return ArithmeticDatasetBuilder(
            batch_size=v["batch_size"],
            model_name_for_tokenizer=v["model_name"],
            renderer_name=renderer_name,
            n_batches=v["n_batches"],
            group_size=v["group_size"],
            seed=v["seed"] or 0,
        )
    if env == "gsm8k":
        from .envs.gsm8k import Gsm8kJsonlDatasetBuilder

        if not v["file_path"]:
            raise ValidationError("env=gsm8k needs file_path=<problems.jsonl>", field="file_path")
        return Gsm8kJsonlDatasetBuilder(
            file_path=v["file_path"],
            batch_size=v["batch_size"],
            group_size=v["group_size"],
            model_name_for_tokenizer=v["model_name"],
            renderer_name=renderer_name,
            test_size=v["test_size"],
            seed=v["seed"] or 0,
        )
    from .envs.guess_number import GuessNumberDatasetBuilder

    return GuessNumberDatasetBuilder(
        batch_size=v["batch_size"],
        group_size=v["group_size"],
        n_batches=v["n_batches"],
        model_name_for_tokenizer=v["model_name"],
        seed=v["seed"] or 0,
    )


def _run(v: dict[str, Any]) -> int:
    from .train import AsyncConfig, Config
    from .train import main as train_main

    log_path = prepare_log_dir(v, "rl")
    builder = build_dataset_builder(v)
    lr = v["learning_rate"]
    if lr is None:
        lr = 2e-2 if v["model_name"] == DEMO_MODEL else 4e-5
    async_config = None
    if v["max_steps_off_policy"] is not None:
        async_config = AsyncConfig(
            max_steps_off_policy=v["max_steps_off_policy"],
            groups_per_batch=v["groups_per_batch"] or v["batch_size"],
            loss_fn=v["loss_fn"],
        )
    with endpoint(v["base_url"], log_path, v["api_key"]) as (base_url, api_key):
        config = Config(
            recipe_name="rl",
            log_path=log_path,
            model_name=v["model_name"],
            dataset_builder=builder,
            learning_rate=lr,
            max_tokens=v["max_tokens"] or _DEFAULT_MAX_TOKENS[v["env"]],
            temperature=v["temperature"],
            renderer_name=v["renderer_name"],
            lora_rank=v["lora_rank"],
            base_url=base_url,
            api_key=api_key,
            loss_fn=v["loss_fn"],
            loss_fn_config=_loss_fn_config(v["loss_fn_config"]),
            num_substeps=v["num_substeps"],
            kl_penalty_coef=v["kl_penalty_coef"],
            kl_discount_factor=v["kl_discount_factor"],
            kl_reference_model=v["kl_reference_model"],
            compute_post_kl=v["compute_post_kl"],
            remove_constant_reward_groups=v["remove_constant_reward_groups"],
            eval_every=v["eval_every"],
            save_every=v["save_every"],
            ttl_seconds=v["ttl_seconds"],
            max_steps=v["max_steps"],
            async_config=async_config,
            error_policy=v["error_policy"],
            max_turns=v["max_turns"],
            seed=v["seed"],
        )
        mode = "sync" if async_config is None else f"async (max_steps_off_policy={async_config.max_steps_off_policy})"
        print(f"RL on env={v['env']} with {v['model_name']}, {mode}; logs in {log_path}")
        import asyncio

        summary = asyncio.run(train_main(config))
    _report(log_path, summary)
    return 0


def _report(log_path: str, summary: dict[str, Any]) -> None:
    rewards = [r for r in summary["reward_history"] if r == r]
    print()
    if rewards:
        print(
            f"steps {summary['steps_run']}  mean reward {rewards[0]:.3f} (first step) -> {rewards[-1]:.3f} (last step)"
        )
    tests = summary.get("test_reward_history") or []
    if tests:
        print("test reward: " + ", ".join(f"step {s}: {r:.3f}" for s, r in tests))
    from ..plotting import report_files

    print(report_files(log_path))
    if summary.get("state_path"):
        print(f"final checkpoint: {summary['state_path']}")
