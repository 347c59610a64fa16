"""Cookbook 0.6.1 RL recipes, imports rewritten, run unchanged against ``tinkerlite serve``."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.torch_env import torch_python

from .conftest import (
    MODEL,
    Server,
    assert_falls,
    assert_rises,
    hf_cache_from_pinned,
    metrics,
    port_recipe,
    resume_from,
    run_recipe,
    warm_start,
)

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
        question = f"What is {a} plus {b}? Write your answer in \\boxed{{}} format."
        convos.append([*FEWSHOT, {"role": "user", "content": question},
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
    # The blueprint fixes 128 groups of 16 in its dataset builder (chz cannot override nested keys of a value),
    # so the stand-in GSM8K is cut to 15 training questions (one batch) and the cookbook's num_epochs makes
    # three steps of them; the training reward must climb, as in any cookbook run.
    run_recipe(script, [f"model_name={MODEL}", f"load_checkpoint_path={boxed_sums_state}", "max_tokens=12",
                        "learning_rate=3e-3", "num_epochs=3", "eval_every=0", "save_every=0", f"log_path={log}"],
               server, tmp_path, env={"STANDIN_GSM8K_ROWS": "20"})
    rows = metrics(log)
    assert [r["step"] for r in rows if "env/all/reward/total" in r] == [0, 1, 2], rows
    assert_rises(rows, "env/all/reward/total", margin=0.1)


@pytest.fixture(scope="session")
def boxed_sums_state_rl_loop(server: Server) -> str:
    """As ``boxed_sums_state``, in rl_loop's own prompt (its question suffix differs from MathEnv's)."""
    suffix = " Provide a numerical answer without units, written inside \\boxed{}."
    fewshot = [{"role": "user", "content": "How many r's are in strawberry?" + suffix}, FEWSHOT[1]]
    rng = random.Random(1)
    convos = []
    for _ in range(256):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        convos.append([*fewshot, {"role": "user", "content": f"What is {a} plus {b}?{suffix}"},
                       {"role": "assistant", "content": f"\\boxed{{{a + b}}}"}])
    return warm_start(server, convos, steps=30)


def test_rl_loop(cookbook_recipes: Path, server: Server, tmp_path: Path, boxed_sums_state_rl_loop: str) -> None:
    # rl_loop.py builds its loss inputs with torch (TensorData.from_torch(torch.tensor(...))): it runs, unchanged,
    # in a cached venv with the CPU torch wheel, tinkerlite coming from the checkout.
    python = torch_python()
    script = port_recipe(cookbook_recipes, "rl_loop.py", tmp_path)
    log = tmp_path / "run"
    resume_from(log, boxed_sums_state_rl_loop)  # rl_loop resumes from its log_path's last checkpoint
    run_recipe(script, [f"model_name={MODEL}", "batch_size=8", "group_size=8", "max_tokens=12",
                        "learning_rate=2e-3", "max_steps=6", "save_every=0", f"log_path={log}"], server, tmp_path,
               python=python)
    assert_rises(metrics(log), "reward/total")


GUESS_MODEL, GUESS_RENDERER = "meta-llama/Llama-3.2-1B", "llama3"


@pytest.fixture(scope="session")
def guess_format_state(server: Server, hf_cache: Path) -> str:
    """The served Llama-3.2-1B stand-in (real Llama 3 tokenizer) after a short SFT on game transcripts with
    every assistant turn "Guess: <n>": it keeps the format on some turns, not all (episodes start near -7.5
    of -10), which is what the RL steps then improve. (The byte-level tiny-chat model, at any affordable warm
    start, loses the format after the first turn and scores about -9 throughout.)"""
    from tinkerlite.recipes.multiplayer_rl.guess_number.env import SYSTEM_PROMPT

    rng = random.Random(2)
    convos = []
    for _ in range(128):
        convo = [{"role": "system", "content": SYSTEM_PROMPT}]
        for _ in range(rng.randint(0, 9)):
            convo += [{"role": "assistant", "content": f"Guess: {rng.randrange(1024)}"},
                      {"role": "user", "content": rng.choice(["Too low", "Too high"])}]
        convos.append([*convo, {"role": "assistant", "content": f"Guess: {rng.randrange(1024)}"}])
    with offline_hf(hf_cache):
        return warm_start(server, convos, steps=24, lr=1e-2, batch=8,
                          model=GUESS_MODEL, renderer_name=GUESS_RENDERER, train_on="all_assistant_messages")


@pytest.mark.timeout(600)
def test_guess_number(cookbook_recipes: Path, server: Server, tmp_path: Path, hf_cache: Path,
                      guess_format_state: str) -> None:
    script = port_recipe(cookbook_recipes, "multiplayer_rl/guess_number/train.py", tmp_path)
    log = tmp_path / "run"
    # The recipe has no load_checkpoint_path key; it resumes from its log_path, as any cookbook run does.
    resume_from(log, guess_format_state)
    run_recipe(script, [f"model_name={GUESS_MODEL}", f"renderer_name={GUESS_RENDERER}", "batch_size=4",
                        "group_size=8", "max_tokens=16", "learning_rate=3e-3", "max_steps=5", "eval_every=0",
                        "save_every=0", f"log_path={log}", "behavior_if_log_dir_exists=resume"], server, tmp_path,
               env={"HF_HUB_CACHE": str(hf_cache), "HF_HUB_OFFLINE": "1"})
    # Ten-turn episodes score -1 per unparsed turn: the mean of the last two steps must beat the first two's
    # by most of a turn's penalty.
    assert_rises(metrics(log), "env/all/reward/total", margin=0.75)


@pytest.fixture(scope="session")
def chat_teacher(server: Server) -> str:
    """Sampler weights of the tiny model after a short SFT on the bundled chat data (the teacher)."""
    import json

    from .conftest import REPO

    rows = (REPO / "examples" / "data" / "tiny_chat.jsonl").read_text().splitlines()
    return warm_start(server, [json.loads(r)["messages"] for r in rows], steps=30, sampler=True)


def test_on_policy_distillation(cookbook_recipes: Path, server: Server, tmp_path: Path, chat_teacher: str) -> None:
    script = port_recipe(cookbook_recipes, "distillation/on_policy_distillation.py", tmp_path)
    log = tmp_path / "run"
    run_recipe(script, [f"model_name={MODEL}", f"teacher_model={MODEL}", f"teacher_checkpoint={chat_teacher}",
                        "dataset=tulu3", "groups_per_batch=8", "group_size=4", "max_tokens=24", "lora_rank=32",
                        "learning_rate=2e-3", "max_steps=6", "eval_every=0", "save_every=0", f"log_path={log}",
                        "behavior_if_log_dir_exists=delete"], server, tmp_path)
    assert_falls(metrics(log), "teacher_kl", factor=0.9)


@pytest.fixture(scope="session")
def who_are_you_state(server: Server) -> str:
    """The tiny model after a short SFT on replies to "Who are you?" of 1 to 8 words, each ending its turn."""
    words = ["I", "am", "a", "small", "helpful", "model", "here", "to", "chat", "with", "you", "today"]
    rng = random.Random(3)
    convos = [[{"role": "user", "content": "Who are you?"},
               {"role": "assistant", "content": " ".join(rng.choice(words) for _ in range(rng.randint(1, 8)))}]
              for _ in range(128)]
    return warm_start(server, convos, steps=30)


def test_preference_shorter(cookbook_recipes: Path, server: Server, tmp_path: Path, who_are_you_state: str) -> None:
    script = port_recipe(cookbook_recipes, "preference/shorter/train.py", tmp_path)
    log = tmp_path / "run"
    resume_from(log, who_are_you_state)
    run_recipe(script, [f"model_name={MODEL}", "renderer_name=role_colon", "batch_size=4", "group_size=8",
                        "max_tokens=64", "learning_rate=1e-3", "max_steps=6", "eval_every=0", f"log_path={log}",
                        "behavior_if_log_dir_exists=resume"], server, tmp_path)
    # Within a group the pairwise win-minus-loss sums to zero, so the mean reward moves only with the format
    # term; what this recipe trains is the reply length, which must fall.
    assert_falls(metrics(log), "env/all/ac_tokens_per_turn", factor=0.9)


NUMERICS_MODEL, NUMERICS_RENDERER = "Qwen/Qwen3-8B", "qwen3_disable_thinking"


@pytest.fixture(scope="session")
def hf_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real Qwen3 and Llama 3 tokenizers in a private offline HF cache, for the recipes' subprocesses and (inside
    :func:`offline_hf`) this process (Llama models load the cookbook's shared tokenizer repo, cached too)."""
    from tinkerlite.tokenizers.names import LLAMA3_TOKENIZER_REPO

    cache = tmp_path_factory.mktemp("hf") / "hub"
    hf_cache_from_pinned(cache, NUMERICS_MODEL, "qwen3")
    for name in (GUESS_MODEL, LLAMA3_TOKENIZER_REPO):
        hf_cache_from_pinned(cache, name, "llama3")
    return cache


@contextlib.contextmanager
def offline_hf(cache: Path) -> Iterator[None]:
    """``HF_HUB_CACHE``/``HF_HUB_OFFLINE`` pointing at ``cache`` in this process, restored afterwards."""
    from tinkerlite.tokenizers.loader import clear_cache

    saved = {k: os.environ.get(k) for k in ("HF_HUB_CACHE", "HF_HUB_OFFLINE")}
    os.environ.update(HF_HUB_CACHE=str(cache), HF_HUB_OFFLINE="1")
    clear_cache()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        clear_cache()


@pytest.fixture(scope="session")
def counting_answer_state(server: Server, hf_cache: Path) -> str:
    """The served Qwen3-8B stand-in after a short SFT on the counting task's opening turn (tools in the system
    prompt, one-page documents) answered at once with "Answer: <0..2>": its rollouts then end in the answer
    format with differing counts, so rewards differ within a group and the RL steps have something to train."""
    from tinkerlite.recipes.rl_numerics_check.env import (
        SYSTEM_PROMPT,
        CountingTaskConfig,
        EpisodeState,
        PageReader,
        build_prompt,
    )
    from tinkerlite.renderers import get_renderer
    from tinkerlite.tokenizer_utils import get_tokenizer

    task = CountingTaskConfig(num_pages_min=1, num_pages_max=1, page_chars=200, reward_tolerance=1.0)
    with offline_hf(hf_cache):
        renderer = get_renderer(NUMERICS_RENDERER, get_tokenizer(NUMERICS_MODEL))
        prefix = renderer.create_conversation_prefix_with_tools(
            tools=[PageReader(["-"], EpisodeState()).read_page.to_spec()], system_prompt=SYSTEM_PROMPT)
        rng = random.Random(4)
        convos = [[*prefix, {"role": "user", "content": build_prompt(task, rng.choice(task.words), 1)},
                   {"role": "assistant", "content": f"Answer: {rng.randint(0, 2)}"}] for _ in range(64)]
        return warm_start(server, convos, steps=24, lr=1e-2, batch=8, model=NUMERICS_MODEL,
                          renderer_name=NUMERICS_RENDERER)


def test_rl_numerics_check(cookbook_recipes: Path, server: Server, tmp_path: Path, hf_cache: Path,
                           counting_answer_state: str) -> None:
    script = port_recipe(cookbook_recipes, "rl_numerics_check/train.py", tmp_path)
    # Imports, the chz CLIConfig and its nested CountingTaskConfig resolve under the rewrite
    # (chz prints the help, then raises its help exception: exit 1).
    shown = run_recipe(script, ["--help"], server, tmp_path, ok=(1,))
    assert "task.num_pages_hint" in shown and "task.reward_tolerance" in shown, shown[-3000:]
    # The counting task needs a tool-calling renderer with a real tokenizer: Qwen3-8B's (from the pinned
    # registry data, in a private offline HF cache); the local server serves a stand-in under that name.
    log = tmp_path / "run"
    resume_from(log, counting_answer_state)  # the recipe has no load_checkpoint_path key; it resumes
    run_recipe(script, [f"model_name={NUMERICS_MODEL}", f"renderer_name={NUMERICS_RENDERER}",
                        "groups_per_batch=4", "group_size=4", "max_tokens=16", "max_trajectory_tokens=4096",
                        "learning_rate=1e-3", "max_steps=3", "save_every=0", "task.num_pages_min=1",
                        "task.num_pages_max=1", "task.page_chars=200", "task.reward_tolerance=1.0",
                        f"log_path={log}", "behavior_if_log_dir_exists=resume"],
               server, tmp_path, env={"HF_HUB_CACHE": str(hf_cache), "HF_HUB_OFFLINE": "1"})
    rows = [r for r in metrics(log) if "optim/kl_sample_train_v1" in r]
    assert [r["step"] for r in rows] == [0, 1, 2], rows  # resumed at step 0, max_steps=3
    # What the check is for: the sampler's logprobs of the sampled tokens and the trainer's agree. The
    # README's healthy dense-model runs sit near 2e-4 for v1; a sampler/trainer mismatch shows as >= 1e-2.
    for r in rows:
        v1, v2 = r["optim/kl_sample_train_v1"], r["optim/kl_sample_train_v2"]
        assert abs(v1) < 1e-3 and 0 <= v2 < 1e-4, r
        assert r["tokens/sampled"] > 0 and r["tokens/trained"] > 0, r
    # and the steps trained: groups with differing rewards, a non-zero gradient, and the check still holds
    # on the updated weights (steps 1 and 2 sample from the weights steps 0 and 1 produced).
    assert any(r["env/all/by_group/frac_mixed"] > 0 for r in rows), rows
    assert all(r["grad_norm:mean"] > 0 for r in rows if r["env/all/by_group/frac_mixed"] > 0), rows
    assert any(0 < r["env/all/reward/total"] for r in rows), rows
