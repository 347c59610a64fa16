"""Autoregressive sampling from :class:`~tinkerlite.local.model.TinyTransformer` with a KV cache.

Decisions, where Tinker's public material leaves room:

* ``logprobs`` of sampled tokens are log-probs under the distribution the token was drawn from *before*
  truncation: ``log_softmax(logits / temperature)``, ignoring top-k/top-p. At temperature 1 (what the
  cookbook recommends for RL) these are the model's own log-probs, the ones training computes, so
  importance ratios start at 1. With temperature 0 (greedy) there is no distribution to speak of and the
  temperature-1 log-prob is returned.
* ``top_k`` of -1 (or 0) means no limit; ``top_p`` keeps the smallest set of most likely tokens, after
  top-k and renormalisation, whose probability reaches ``top_p``. Ties are broken by token id, so
  ``top_k=1`` picks exactly what greedy decoding picks.
* A stop token is kept as the last sampled token (the cookbook's renderers expect it there) and ends the
  sequence with ``"stop"``. Stop *strings* need a tokenizer, so the server passes ``should_stop``, called
  with a sequence's sampled tokens after each step. Running out of ``max_tokens`` (or of positions:
  ``max_seq_len``) gives ``"length"``.
* The same ``seed`` gives the same tokens: each request draws from its own ``Generator(PCG64(seed))``,
  one uniform per sampled token, samples in order. ``seed=None`` draws fresh entropy.
* Prompt log-probs come from the training code path (:meth:`TinyTransformer.prompt_logprobs`); position 0
  has no context and is ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from tinkerlite._optional import require
from tinkerlite.errors import ValidationError

from .model import TinyTransformer

np = require("numpy", "the local server's sampler", extra="local")

Array: TypeAlias = Any  # numpy.ndarray (numpy is an optional extra)

__all__ = ["SampleResult", "SampledSequence", "SamplingParams", "choose_token", "sample"]


@dataclass(frozen=True)
class SamplingParams:
    """The sampling knobs of a Tinker ``SampleRequest``, with stop strings already resolved away."""

    max_tokens: int | None = None
    temperature: float = 1.0
    top_k: int = -1
    top_p: float = 1.0
    seed: int | None = None
    stop_token_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.max_tokens is not None and self.max_tokens < 0:
            raise ValidationError("must be non-negative", field="sampling_params.max_tokens")
        if not (math.isfinite(self.temperature) and self.temperature >= 0):
            raise ValidationError("must be a finite number >= 0", field="sampling_params.temperature")
        if self.top_k < -1:
            raise ValidationError("must be -1 (no limit) or positive", field="sampling_params.top_k")
        if not 0 < self.top_p <= 1:
            raise ValidationError("must lie in (0, 1]", field="sampling_params.top_p")
        if self.seed is not None and self.seed < 0:
            raise ValidationError("must be non-negative", field="sampling_params.seed")


@dataclass
class SampledSequence:
    tokens: list[int]
    logprobs: list[float]
    stop_reason: str  # "stop" | "length"


@dataclass
class SampleResult:
    sequences: list[SampledSequence]
    prompt_logprobs: list[float | None] | None = None
    topk_prompt_logprobs: list[list[tuple[int, float]] | None] | None = None


def _log_softmax(z: Array) -> Array:
    z = z - np.max(z)
    return z - math.log(float(np.sum(np.exp(z))))


def choose_token(logits: Array, params: SamplingParams, rng: Any) -> tuple[int, float]:
    """Pick one token from a row of logits; returns ``(token, logprob)`` (see the module docstring)."""
    z = np.asarray(logits, dtype=np.float64)
    if params.temperature == 0:
        token = int(np.argmax(z))
        return token, float(_log_softmax(z)[token])
    logp = _log_softmax(z / params.temperature)
    candidates = None  # None: the whole vocabulary, in id order
    if params.top_k > 0 or params.top_p < 1:
        candidates = np.argsort(-logp, kind="stable")  # most likely first, ties by id
        if params.top_k > 0:
            candidates = candidates[: params.top_k]
        if params.top_p < 1:
            probs = np.exp(logp[candidates])
            cum = np.cumsum(probs / probs.sum())
            candidates = candidates[: int(np.searchsorted(cum, params.top_p)) + 1]
    probs = np.exp(logp if candidates is None else logp[candidates])
    cum = np.cumsum(probs)
    i = min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")), cum.shape[0] - 1)
    token = i if candidates is None else int(candidates[i])
    return token, float(logp[token])


def sample(
    model: TinyTransformer,
    prompt: Sequence[int] | Array,
    num_samples: int = 1,
    params: SamplingParams | None = None,
    *,
    prompt_logprobs: bool = False,
    topk_prompt_logprobs: int = 0,
    should_stop: Callable[[list[int]], bool] | None = None,
) -> SampleResult:
    """Draw ``num_samples`` continuations of ``prompt``, decoding them together over one shared prefill."""
    params = params or SamplingParams()
    tokens = np.asarray(prompt)
    if tokens.ndim != 1 or tokens.shape[0] < 1 or tokens.dtype.kind not in "iu":
        raise ValidationError("must be a non-empty list of token ids", field="prompt")
    n_prompt, max_len = int(tokens.shape[0]), model.config.max_seq_len
    if n_prompt > max_len:
        raise ValidationError(f"{n_prompt} tokens exceed max_seq_len {max_len}", field="prompt")
    if num_samples < 1:
        raise ValidationError("must be at least 1", field="num_samples")
    vocab = model.config.vocab_size
    if any(not 0 <= t < vocab for t in params.stop_token_ids):
        raise ValidationError(f"stop token ids must lie in [0, {vocab})", field="sampling_params.stop")

    result = SampleResult([])
    if prompt_logprobs or topk_prompt_logprobs > 0:
        lp, top_ids, top_lp = model.prompt_logprobs(tokens, topk_prompt_logprobs)
        if prompt_logprobs:
            result.prompt_logprobs = [None, *(float(x) for x in lp)]
        if topk_prompt_logprobs > 0:
            rows = [
                [(int(t), float(x)) for t, x in zip(ids, lps, strict=True)]
                for ids, lps in zip(top_ids, top_lp, strict=True)
            ]
            result.topk_prompt_logprobs = [None, *rows]

    # The n-th new token is read off position n_prompt + n - 1, so at most max_len - n_prompt + 1 fit.
    budget = max_len - n_prompt + 1
    max_new = budget if params.max_tokens is None else min(params.max_tokens, budget)
    rng = np.random.Generator(np.random.PCG64(params.seed))
    stops = set(params.stop_token_ids)
    w_unembed = model.unembed_weight()

    cache = model.new_cache(1, n_prompt + max(max_new - 1, 0))
    hf, _ = model.hidden(model.check_tokens(tokens, "prompt")[None, :], cache)
    cache.k = [np.repeat(k, num_samples, axis=0) for k in cache.k]
    cache.v = [np.repeat(v, num_samples, axis=0) for v in cache.v]
    logits = np.repeat(hf[:, -1] @ w_unembed.T, num_samples, axis=0)  # [B, V]

    seqs = [SampledSequence([], [], "length") for _ in range(num_samples)]
    active = [True] * num_samples
    for step in range(max_new):
        for b, seq in enumerate(seqs):
            if not active[b]:
                continue
            token, logprob = choose_token(logits[b], params, rng)
            seq.tokens.append(token)
            seq.logprobs.append(logprob)
            if token in stops or (should_stop is not None and should_stop(seq.tokens)):
                seq.stop_reason, active[b] = "stop", False
        if not any(active) or step == max_new - 1:
            break
        # Finished rows keep decoding their last token; their results are ignored.
        last = np.asarray([seq.tokens[-1] for seq in seqs], dtype=np.int64)[:, None]
        hf, _ = model.hidden(last, cache)
        logits = hf[:, 0] @ w_unembed.T
    result.sequences = seqs
    return result
