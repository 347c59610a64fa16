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
* Batching does not change results: a request's tokens *and* log-probs are the same bits whether it is
  decoded alone or beside other requests (:func:`sample_group`, which the server uses for concurrent
  requests of one sampler). Only requests of equal prompt length and ``num_samples`` are grouped, each
  keeps its rows as one slab, and every matrix product is one call per slab: one product over all rows
  would round a row differently with the number of rows beside it (OpenBLAS picks kernels by shape),
  which is why rows of different requests never share a product.
* Decoding reads merged weights (:mod:`.decode`), so sampled log-probs equal the training path's to
  float32 rounding (about 1e-6), not bit for bit; prompt log-probs use the training path itself.
* Prompt log-probs come from the training code path (:meth:`TinyTransformer.prompt_logprobs`); position 0
  has no context and is ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from tinkerlite._optional import require
from tinkerlite.errors import ValidationError

from .decode import decode_step, decode_weights
from .model import TinyTransformer
from .parallel import run_spans, spans

np = require("numpy", "the local server's sampler", extra="local")

Array: TypeAlias = Any  # numpy.ndarray (numpy is an optional extra)

__all__ = [
    "SampleRequest",
    "SampleResult",
    "SampledSequence",
    "SamplingParams",
    "choose_token",
    "choose_tokens",
    "sample",
    "sample_group",
]


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


_BLOCK = 1024  # inverse-CDF search: block sums first, then a cumulative sum inside one block


def _pick(e: Array, x: Array) -> Array:
    """Per row, the index ``i`` with ``cum[i-1] <= x < cum[i]`` of the cumulative sums of ``e`` [B, N].

    A full ``cumsum`` over a large vocabulary is a sequential pass per row; summing blocks of ``_BLOCK``
    first and accumulating only inside the chosen block is the same search at a fraction of the cost.
    """
    n_rows, n = e.shape
    rows_ix = np.arange(n_rows)
    if n <= _BLOCK:  # one block: the plain search
        cum = np.cumsum(e, axis=1, dtype=np.float64)
        picked = np.minimum(np.sum(cum <= x[:, None], axis=1), n - 1)
        for b in np.flatnonzero(e[rows_ix, picked] <= 0):
            # Rounding pushed the draw to the very end: take the last token with probability mass.
            live = np.flatnonzero(e[b] > 0)
            picked[b] = int(live[-1]) if live.size else picked[b]
        return picked
    starts = np.arange(0, n, _BLOCK)
    block_sums = np.add.reduceat(e, starts, axis=1, dtype=np.float64)  # [B, nb]
    block_cum = np.cumsum(block_sums, axis=1)
    blk = np.sum(block_cum <= x[:, None], axis=1)
    for b in np.flatnonzero(blk >= len(starts)):
        # The draw reached the total (rounding): the last block with probability mass holds its end.
        live = np.flatnonzero(block_sums[b] > 0)
        blk[b] = int(live[-1]) if live.size else len(starts) - 1
    before = np.where(blk > 0, block_cum[rows_ix, np.maximum(blk - 1, 0)], 0.0)
    cols = blk[:, None] * _BLOCK + np.arange(_BLOCK)[None, :]
    inside = cols < n
    seg = np.where(inside, e[rows_ix[:, None], np.minimum(cols, n - 1)], 0.0)
    within = np.sum(before[:, None] + np.cumsum(seg, axis=1) <= x[:, None], axis=1)
    picked = blk * _BLOCK + within
    for b in np.flatnonzero((within >= _BLOCK) | (picked >= n)):
        # Rounding pushed the draw past the block's end: take its last token with probability mass.
        last = np.flatnonzero(seg[b] > 0)
        picked[b] = blk[b] * _BLOCK + (int(last[-1]) if last.size else 0)
    return np.minimum(picked, n - 1)


def choose_tokens(logits: Array, params: SamplingParams, rng: Any) -> tuple[Array, Array]:
    """Pick one token per row of ``logits`` [B, V], all rows at once; returns ``(tokens, logprobs)``.

    One uniform is drawn per row, in row order (the stream ``rng.random()`` called once per row gives).
    Untruncated draws work in the logits' own float type (float32 from the model: half the memory traffic
    of float64 over a large vocabulary) and accumulate the normaliser in float64; truncated ones are in
    float64 throughout.
    """
    z = np.asarray(logits)
    truncated = params.top_k > 0 or params.top_p < 1
    # float64 also where float32 could overflow: logits / a tiny temperature.
    if z.dtype not in (np.float32, np.float64) or params.temperature < 1e-6 or truncated:
        z = z.astype(np.float64)
    if z.ndim == 1:
        z = z[None, :]
    n_rows = z.shape[0]
    rows_ix = np.arange(n_rows)
    if params.temperature == 0:
        tokens = np.argmax(z, axis=1)
        m = np.max(z, axis=1)
        lse = np.log(np.sum(np.exp(z - m[:, None]), axis=1))
        return tokens, z[rows_ix, tokens] - m - lse
    s = z / params.temperature if params.temperature != 1 else z
    m = np.max(s, axis=1, keepdims=True)
    e = np.subtract(s, m)
    np.exp(e, out=e)
    total = np.sum(e, axis=1, dtype=np.float64)
    log_total = np.log(total)
    if truncated:
        logp = s - m - log_total[:, None]
        order = np.argsort(-logp, axis=1, kind="stable")  # most likely first, ties by id
        if params.top_k > 0:
            order = order[:, : params.top_k]
        probs = np.exp(np.take_along_axis(logp, order, axis=1))
        if params.top_p < 1:
            cum = np.cumsum(probs / np.sum(probs, axis=1, keepdims=True), axis=1)
            keep = np.sum(cum < params.top_p, axis=1) + 1  # the smallest prefix reaching top_p
            probs = np.where(np.arange(order.shape[1])[None, :] < keep[:, None], probs, 0.0)
        cum = np.cumsum(probs, axis=1)
        x = rng.random(n_rows) * cum[:, -1]
        i = np.minimum(np.sum(cum <= x[:, None], axis=1), order.shape[1] - 1)
        i = np.where(probs[rows_ix, i] > 0, i, keep - 1) if params.top_p < 1 else i
        tokens = order[rows_ix, i]
        return tokens, logp[rows_ix, tokens]
    tokens = _pick(e, rng.random(n_rows) * total)
    return tokens, s[rows_ix, tokens].astype(np.float64) - m[:, 0].astype(np.float64) - log_total


def choose_token(logits: Array, params: SamplingParams, rng: Any) -> tuple[int, float]:
    """Pick one token from a row of logits; returns ``(token, logprob)`` (see the module docstring)."""
    tokens, logprobs = choose_tokens(np.asarray(logits)[None, :], params, rng)
    return int(tokens[0]), float(logprobs[0])


@dataclass(frozen=True)
class SampleRequest:
    """One sampling request, as :func:`sample_group` takes it (see :func:`sample` for the fields)."""

    prompt: Sequence[int] | Array
    num_samples: int = 1
    params: SamplingParams = field(default_factory=SamplingParams)
    prompt_logprobs: bool = False
    topk_prompt_logprobs: int = 0
    should_stop: Callable[[list[int]], bool] | None = None

    def group_key(self) -> tuple[int, int]:
        """Requests with equal keys (on one model) can decode together: same prompt length, same rows."""
        return len(self.prompt), self.num_samples


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
    req = SampleRequest(prompt, num_samples, params, prompt_logprobs, topk_prompt_logprobs, should_stop)
    (out,) = sample_group(model, [req])
    if isinstance(out, BaseException):
        raise out
    return out


@dataclass
class _Decoding:
    """One request's decoding state inside a group."""

    req: SampleRequest
    rng: Any
    max_new: int
    seqs: list[SampledSequence]
    active: list[int]
    stops: set[int]
    step: int = 0


def _start(model: TinyTransformer, req: SampleRequest) -> tuple[_Decoding, SampleResult, Any, Array]:
    """Check ``req``, score its prompt if asked, prefill it: ``(state, result, prefill cache, last logits)``."""
    params = req.params
    tokens = np.asarray(req.prompt)
    if tokens.ndim != 1 or tokens.shape[0] < 1 or tokens.dtype.kind not in "iu":
        raise ValidationError("must be a non-empty list of token ids", field="prompt")
    n_prompt, max_len = int(tokens.shape[0]), model.config.max_seq_len
    if n_prompt > max_len:
        raise ValidationError(f"{n_prompt} tokens exceed max_seq_len {max_len}", field="prompt")
    if req.num_samples < 1:
        raise ValidationError("must be at least 1", field="num_samples")
    vocab = model.config.vocab_size
    if any(not 0 <= t < vocab for t in params.stop_token_ids):
        raise ValidationError(f"stop token ids must lie in [0, {vocab})", field="sampling_params.stop")
    checked = model.check_tokens(tokens, "prompt")

    result = SampleResult([])
    if req.prompt_logprobs or req.topk_prompt_logprobs > 0:
        lp, top_ids, top_lp = model.prompt_logprobs(checked, req.topk_prompt_logprobs)
        if req.prompt_logprobs:
            result.prompt_logprobs = [None, *(float(x) for x in lp)]
        if req.topk_prompt_logprobs > 0:
            rows = [
                [(int(t), float(x)) for t, x in zip(ids, lps, strict=True)]
                for ids, lps in zip(top_ids, top_lp, strict=True)
            ]
            result.topk_prompt_logprobs = [None, *rows]

    # The n-th new token is read off position n_prompt + n - 1, so at most max_len - n_prompt + 1 fit.
    budget = max_len - n_prompt + 1
    max_new = budget if params.max_tokens is None else min(params.max_tokens, budget)
    cache = model.new_cache(1, n_prompt)
    hf, _ = model.hidden(checked[None, :], cache)
    n = req.num_samples
    state = _Decoding(
        req,
        np.random.Generator(np.random.PCG64(params.seed)),
        max_new,
        [SampledSequence([], [], "length") for _ in range(n)],
        list(range(n)),
        set(params.stop_token_ids),
    )
    return state, result, cache, hf[:, -1]


def sample_group(model: TinyTransformer, requests: Sequence[SampleRequest]) -> list[SampleResult | Exception]:
    """Run requests of one model together; each gets its result, or the error that rejected it.

    Requests whose :meth:`~SampleRequest.group_key` differs are run one group per key, one after the other.
    Inside a group every request keeps its own rows as one slab (``[R, num_samples, ...]`` arrays): each
    matrix product is the same BLAS call on the same slab that running the request alone makes, and every
    other operation is row-wise, so a request's tokens and log-probs are bit-identical to its solo run.
    """
    out: list[SampleResult | Exception] = [ValidationError("not run")] * len(requests)
    keys: dict[tuple[int, int], list[int]] = {}
    for i, req in enumerate(requests):
        keys.setdefault(req.group_key(), []).append(i)
    for members in keys.values():
        states: list[_Decoding] = []
        caches, lasts, index = [], [], []
        for i in members:
            try:
                state, result, cache, h_last = _start(model, requests[i])
            except Exception as e:  # this request alone is rejected
                out[i] = e
                continue
            out[i] = result
            if state.max_new > 0:
                states.append(state)
                caches.append(cache)
                lasts.append(h_last)
                index.append(i)
        if states:
            _decode(model, states, caches, np.stack(lasts))  # [R, 1, d]
            for i, state in zip(index, states, strict=True):
                done = out[i]
                assert isinstance(done, SampleResult)
                done.sequences = state.seqs
        for i in members:
            done = out[i]
            if isinstance(done, SampleResult) and not done.sequences:
                done.sequences = [SampledSequence([], [], "length") for _ in range(requests[i].num_samples)]
    return out


def _stack_logits(h: Array, w_unembed: Array) -> Array:
    """Logits [R, n, V] of hidden rows ``h`` [R, n, d], one product per request slab.

    ``W @ h^T`` streams the [V, d] matrix once in its own layout; with a handful of rows that is about three
    times faster in OpenBLAS than the product against the transposed view.
    """
    r, n, _ = h.shape
    out = np.empty((r, n, w_unembed.shape[0]), dtype=np.result_type(h, w_unembed))
    h_t = h.transpose(0, 2, 1)

    def product(sl: slice) -> None:
        out[:, :, sl] = np.matmul(w_unembed[sl], h_t).transpose(0, 2, 1)

    run_spans(product, spans(w_unembed.shape[0]))
    return out


def _decode(model: TinyTransformer, states: list[_Decoding], caches: list[Any], h_last: Array) -> None:
    """Decode every request of ``states`` (equal prompt lengths and row counts) until each is done."""
    n = states[0].req.num_samples
    n_prompt = caches[0].length
    capacity = n_prompt + max(s.max_new for s in states) - 1
    cache = model.new_cache(len(states) * n, max(capacity, n_prompt))
    for layer in range(model.config.n_layers):
        for r, c in enumerate(caches):
            cache.k[layer][r * n : (r + 1) * n, :, :n_prompt] = c.k[layer]
            cache.v[layer][r * n : (r + 1) * n, :, :n_prompt] = c.v[layer]
    cache.length = n_prompt
    weights = decode_weights(model)
    w_unembed = weights.unembed
    logits = _stack_logits(h_last, w_unembed)  # [R, 1, V]: the prefill's last position
    logits = np.repeat(logits, n, axis=1)  # [R, n, V]
    live = list(states)
    while True:
        last = np.zeros((len(live), n), dtype=np.int64)
        still: list[int] = []
        for r, state in enumerate(live):
            rows = logits[r] if len(state.active) == n else logits[r][state.active]
            tokens, logprobs = choose_tokens(rows, state.req.params, state.rng)
            active = []
            for b, token, logprob in zip(state.active, tokens.tolist(), logprobs.tolist(), strict=True):
                seq = state.seqs[b]
                seq.tokens.append(token)
                seq.logprobs.append(logprob)
                if token in state.stops or (state.req.should_stop is not None and state.req.should_stop(seq.tokens)):
                    seq.stop_reason = "stop"
                else:
                    active.append(b)
            state.active = active
            state.step += 1
            for b, seq in enumerate(state.seqs):
                last[r, b] = seq.tokens[-1]  # finished rows keep decoding their last token, ignored
            if active and state.step < state.max_new:
                still.append(r)
        if not still:
            return
        if len(still) < len(live):  # drop finished requests' slabs; the others' arrays keep their shape
            rows_kept = np.concatenate([np.arange(r * n, (r + 1) * n) for r in still])
            cache.k = [k[rows_kept] for k in cache.k]
            cache.v = [v[rows_kept] for v in cache.v]
            live, last = [live[r] for r in still], last[still]
        logits = _stack_logits(decode_step(weights, last, cache), w_unembed)
