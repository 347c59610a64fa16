"""Play an environment yourself in the terminal, as its policy (the cookbook's ``rl.play_w_env``): each
observation is shown decoded, your typed reply is encoded as the action (``multiline``: finish with two
blank lines), and the episode's rewards are summarised at the end. Useful to debug an env by hand::

    asyncio.run(play_env(env, tokenizer))
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from ..completers import StopCondition, TokenCompleter, TokensWithLogprobs
from ..tokenizer_utils import encode_without_special_tokens
from ..types import ModelInput
from .rollouts import do_single_rollout
from .types import Env, Trajectory

__all__ = ["ManualPolicy", "get_async_input", "main", "play_env", "print_trajectory_summary"]

_CODES = {"green": 32, "blue": 34, "yellow": 33, "cyan": 36}


def _colored(text: str, color: str, bold: bool = False) -> str:
    """termcolor's ``colored`` (same codes and NO_COLOR / FORCE_COLOR / not-a-terminal rules)."""
    env = os.environ
    if "ANSI_COLORS_DISABLED" in env or "NO_COLOR" in env:
        return text
    if "FORCE_COLOR" not in env and (env.get("TERM") == "dumb" or not sys.stdout.isatty()):
        return text
    return ("\033[1m" if bold else "") + f"\033[{_CODES[color]}m{text}\033[0m"


async def get_async_input(prompt: str, multiline: bool = False) -> str:
    """``input`` without blocking the event loop; multiline stops at two consecutive blank lines."""
    loop = asyncio.get_running_loop()
    if not multiline:
        return await loop.run_in_executor(None, input, prompt)
    print(prompt + " (enter two blank lines when done)")
    lines: list[str] = []
    prev: str | None = None
    while True:
        line = await loop.run_in_executor(None, input, "")
        if line == "" and prev == "":
            if lines and lines[-1] == "":
                lines.pop()
            break
        lines.append(line)
        prev = line
    return "\n".join(lines)


class ManualPolicy(TokenCompleter):
    """A policy that asks the person at the terminal for each action."""

    def __init__(self, tokenizer: Any, multiline: bool = True, show_observation: bool = True):
        self.tokenizer = tokenizer
        self.step_count = 0
        self.multiline = multiline
        self.show_observation = show_observation

    async def __call__(
        self, ob: ModelInput, stop: StopCondition, *, max_tokens: int | None = None
    ) -> TokensWithLogprobs:
        if self.show_observation:
            print(_colored(f"\n--- Step {self.step_count} ---", "green"))
            print(_colored("Observation:", "blue"))
            print(self.tokenizer.decode(ob.to_ints()))
            print(_colored("-" * 60, "green"))
        prompt = "Your action:" if self.multiline else "Your action: "
        text = await get_async_input(_colored(prompt, "yellow"), multiline=self.multiline)
        self.step_count += 1
        return TokensWithLogprobs(tokens=encode_without_special_tokens(self.tokenizer, text), maybe_logprobs=None)


def print_trajectory_summary(trajectory: Trajectory) -> None:
    """Steps, total reward and each non-zero step reward."""
    print(_colored("\n=== Game Summary ===", "cyan", bold=True))
    print(f"Total steps: {len(trajectory.transitions)}")
    print(f"Total reward: {sum(t.reward for t in trajectory.transitions)}")
    if trajectory.transitions:
        print("\nReward per step:")
        for i, t in enumerate(trajectory.transitions):
            if t.reward != 0:
                print(f"  Step {i}: reward = {t.reward}")
    print(_colored("===================", "cyan", bold=True))


async def play_env(env: Env, tokenizer: Any, multiline: bool = True, show_observation: bool = True) -> Trajectory:
    """Play one episode of ``env`` by hand; returns its trajectory."""
    print(_colored("Starting interactive environment session...", "cyan", bold=True))
    print("Type your actions when prompted. The episode will end when the episode is done.")
    policy = ManualPolicy(tokenizer, multiline=multiline, show_observation=show_observation)
    trajectory = await do_single_rollout(policy, env)
    print_trajectory_summary(trajectory)
    return trajectory


async def main() -> None:
    """Play the offline arithmetic env (the cookbook plays twenty questions, which needs an answerer model)."""
    from ..renderers import get_renderer
    from ..tokenizer_utils import get_tokenizer
    from .envs.arithmetic import ArithmeticEnv

    tokenizer = get_tokenizer("tinkerlite/tiny-chat")
    env = ArithmeticEnv(3, 4, get_renderer("role_colon", tokenizer))
    await play_env(env, tokenizer, multiline=False)


if __name__ == "__main__":
    asyncio.run(main())
