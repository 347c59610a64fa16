"""Policies that can be sampled: on tokens (what RL trains) or on messages (what evals and tools use)."""

from __future__ import annotations

import hashlib
from dataclasses import field
from typing import TYPE_CHECKING, Any, TypeAlias

from .errors import ValidationError
from .types import ModelInput, SamplingParams
from .types._lazy import dataclass

if TYPE_CHECKING:  # pragma: no cover
    from .renderers import Message, Renderer

__all__ = [
    "MessageCompleter",
    "StopCondition",
    "TinkerMessageCompleter",
    "TinkerTokenCompleter",
    "TokenCompleter",
    "TokensWithLogprobs",
]

StopCondition: TypeAlias = list[str] | list[int]


@dataclass
class TokensWithLogprobs:
    tokens: list[int]
    maybe_logprobs: list[float] | None
    stop_reason: str = "stop"
    sequence_id: str | None = None
    prompt_cache_hit_tokens: int = 0

    @property
    def logprobs(self) -> list[float]:
        if self.maybe_logprobs is None:
            raise ValidationError("logprobs were not returned with these tokens", field="TokensWithLogprobs")
        return self.maybe_logprobs


class TokenCompleter:
    async def __call__(
        self, model_input: ModelInput, stop: StopCondition, *, max_tokens: int | None = None
    ) -> TokensWithLogprobs:
        raise NotImplementedError


class MessageCompleter:
    async def __call__(self, messages: list[Message]) -> Message:
        raise NotImplementedError


def _derive_seed(seed: int, index: int) -> int:
    """A 48-bit seed for sub-stream ``index`` of ``seed`` (headroom for ``+ n`` per call under 2**63)."""
    digest = hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=6).digest()
    return int.from_bytes(digest, "big")


def fork_policy(policy: TokenCompleter, index: int) -> TokenCompleter:
    """``policy.fork(index)`` where the policy can fork (seeded completers), else ``policy`` itself."""
    fork = getattr(policy, "fork", None)
    return fork(index) if callable(fork) else policy


@dataclass
class TinkerTokenCompleter(TokenCompleter):
    """Samples one sequence per call; ``context_window`` caps ``max_tokens`` so prompt + output fit.

    With ``seed`` set, the n-th call samples with seed ``seed + n``; ``None`` draws fresh entropy. Calls
    made concurrently (multi-turn envs, whose later turns start in completion order) are reproducible only
    through :meth:`fork`: the rollout loops give every group and every env its own forked completer, so a
    rollout's seeds do not depend on which other rollout's request reached the server first.
    """

    sampling_client: Any
    max_tokens: int
    temperature: float = 1.0
    context_window: int | None = None
    seed: int | None = None
    calls: int = field(default=0, init=False, repr=False)

    def fork(self, index: int) -> TinkerTokenCompleter:
        """A completer with its own call counter and a seed stream derived from (``seed``, ``index``)."""
        seed = None if self.seed is None else _derive_seed(self.seed, index)
        return TinkerTokenCompleter(self.sampling_client, self.max_tokens, self.temperature, self.context_window, seed)

    async def __call__(
        self, model_input: ModelInput, stop: StopCondition, *, max_tokens: int | None = None
    ) -> TokensWithLogprobs:
        limit = self.max_tokens if max_tokens is None else min(self.max_tokens, max_tokens)
        if self.context_window is not None:
            limit = min(limit, self.context_window - model_input.length)
            if limit <= 0:
                raise ValidationError(
                    f"prompt length {model_input.length} leaves no room in the {self.context_window}-token context",
                    field="model_input",
                )
        seed = None if self.seed is None else self.seed + self.calls
        self.calls += 1
        result = await self.sampling_client.sample_async(
            prompt=model_input,
            num_samples=1,
            sampling_params=SamplingParams(stop=stop, max_tokens=limit, temperature=self.temperature, seed=seed),
        )
        seq = result.sequences[0]
        if seq.logprobs is None:
            raise ValidationError("the sampler returned no logprobs", field="SampledSequence.logprobs")
        return TokensWithLogprobs(
            tokens=list(seq.tokens),
            maybe_logprobs=list(seq.logprobs),
            stop_reason=seq.stop_reason,
            sequence_id=seq.sequence_id,
            prompt_cache_hit_tokens=result.prompt_cache_hit_tokens,
        )


class TinkerMessageCompleter(MessageCompleter):
    def __init__(
        self,
        sampling_client: Any,
        renderer: Renderer,
        max_tokens: int,
        stop_condition: StopCondition | None = None,
        temperature: float = 1.0,
    ) -> None:
        self.sampling_client = sampling_client
        self.renderer = renderer
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.stop_condition = stop_condition if stop_condition is not None else renderer.get_stop_sequences()

    async def __call__(self, messages: list[Message]) -> Message:
        prompt = self.renderer.build_generation_prompt(messages)
        result = await self.sampling_client.sample_async(
            prompt=prompt,
            num_samples=1,
            sampling_params=SamplingParams(
                stop=self.stop_condition, max_tokens=self.max_tokens, temperature=self.temperature
            ),
        )
        message, _ = self.renderer.parse_response(result.sequences[0].tokens)
        return message
