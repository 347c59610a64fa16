"""Per-token bookkeeping shared by every supervised recipe: shifting, truncation, weighted NLL.

The arithmetic goes through :mod:`tinkerlite.backend`, so the pure and numpy paths give the same
numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from ..backend import get_backend
from ..errors import ValidationError
from ..tokenizers.base import Tokenizer
from ..types import Datum, EncodedTextChunk, ImageAssetPointerChunk, ImageChunk, ModelInput, ModelInputChunk, TensorData

__all__ = [
    "Reduction",
    "compute_bpb",
    "compute_mean_nll",
    "create_rightshifted_model_input_and_leftshifted_targets",
    "datum_from_model_input_weights",
]

Reduction = Literal["none", "mean"]


def _floats(x: TensorData | Sequence[float] | Any) -> list[float]:
    if isinstance(x, TensorData):
        return [float(v) for v in x.dense_flat()]
    if hasattr(x, "tolist"):
        x = x.tolist()
    return [float(v) for v in x]


def compute_mean_nll(logprobs_list: Iterable[Any], weights_list: Iterable[Any]) -> float:
    """``-Σ(lp·w) / Σw`` over the whole batch; NaN when no token carries weight."""
    b = get_backend()
    total_lp = 0.0
    total_w = 0.0
    for i, (lp, w) in enumerate(zip(logprobs_list, weights_list, strict=True)):
        lpf, wf = _floats(lp), _floats(w)
        if len(lpf) != len(wf):
            raise ValidationError(f"datum {i}: {len(lpf)} logprobs but {len(wf)} weights", field="compute_mean_nll")
        total_lp += b.dot(b.asarray(lpf), b.asarray(wf))
        total_w += b.sum(b.asarray(wf))
    if total_w == 0:
        return math.nan
    return -total_lp / total_w


def compute_bpb(
    logprobs_list: Sequence[Any],
    weights_list: Sequence[Any],
    target_tokens_list: Sequence[Any],
    tokenizer: Tokenizer,
) -> float:
    """Bits per byte over trained (weight > 0), non-special target tokens.

    Weights act only as a mask, so ``reduction="mean"`` does not change the figure; bytes are counted
    per contiguous run of counted tokens so gaps do not glue unrelated text together.
    """
    special = set(tokenizer.special_token_ids)
    total_nats = 0.0
    total_bytes = 0
    for lp, w, tt in zip(logprobs_list, weights_list, target_tokens_list, strict=True):
        lpf, wf = _floats(lp), _floats(w)
        toks = [int(t) for t in (tt.dense_flat() if isinstance(tt, TensorData) else tt)]
        run: list[int] = []
        for lp_i, w_i, tok in zip(lpf, wf, toks, strict=True):
            if w_i > 0 and tok not in special:
                total_nats -= lp_i
                run.append(tok)
            elif run:
                total_bytes += len(tokenizer.decode(run).encode("utf-8"))
                run = []
        if run:
            total_bytes += len(tokenizer.decode(run).encode("utf-8"))
    if total_bytes == 0:
        return math.nan
    return total_nats / (math.log(2) * total_bytes)


def create_rightshifted_model_input_and_leftshifted_targets(
    chunks: Sequence[ModelInputChunk],
) -> tuple[ModelInput, list[int]]:
    """Input = all tokens but the last; targets = all tokens but the first (images count as 0)."""
    if not chunks:
        raise ValidationError("need at least one chunk", field="model_input")
    last = chunks[-1]
    if not isinstance(last, EncodedTextChunk):
        raise ValidationError("the last chunk must be text (trailing images carry no targets)", field="model_input")
    total = sum(c.length for c in chunks)
    if total < 2:
        raise ValidationError(f"need at least 2 tokens to form input/target pairs, got {total}", field="model_input")
    inputs: list[ModelInputChunk] = list(chunks[:-1])
    if last.length > 1:
        inputs.append(EncodedTextChunk(tokens=list(last.tokens[:-1])))
    all_tokens: list[int] = []
    for c in chunks:
        if isinstance(c, EncodedTextChunk):
            all_tokens.extend(c.tokens)
        else:
            all_tokens.extend([0] * c.length)
    return ModelInput(chunks=inputs), all_tokens[1:]


def _truncate(chunks: list[ModelInputChunk], max_length: int) -> list[ModelInputChunk]:
    total = sum(c.length for c in chunks)
    while total > max_length and chunks:
        last = chunks[-1]
        overflow = total - max_length
        if isinstance(last, EncodedTextChunk) and overflow < last.length:
            chunks[-1] = EncodedTextChunk(tokens=list(last.tokens[:-overflow]))
            total = max_length
        else:  # a whole text chunk, or an image (never split)
            chunks.pop()
            total -= last.length
    return chunks


def datum_from_model_input_weights(
    model_input: ModelInput,
    weights: Sequence[float] | Any,
    max_length: int | None = None,
    reduction: Reduction = "none",
) -> Datum:
    """Truncate from the right, shift by one, slice the weights to the targets, optionally normalise."""
    if reduction not in ("none", "mean"):
        raise ValidationError(f"unknown reduction {reduction!r}; expected 'none' or 'mean'", field="reduction")
    w = _floats(weights)
    if len(w) != model_input.length:
        raise ValidationError(
            f"{len(w)} weights for a {model_input.length}-token input", field="datum_from_model_input_weights.weights"
        )
    chunks = list(model_input.chunks)
    if max_length is not None:
        if max_length < 2:
            raise ValidationError(f"max_length must be >= 2, got {max_length}", field="max_length")
        chunks = _truncate(chunks, max_length)
    chunks = [c for c in chunks if not (isinstance(c, EncodedTextChunk) and c.length == 0)]
    while chunks and isinstance(chunks[-1], (ImageChunk, ImageAssetPointerChunk)):
        chunks.pop()
    inputs, targets = create_rightshifted_model_input_and_leftshifted_targets(chunks)
    w = w[1 : len(targets) + 1]
    if reduction == "mean":
        total = math.fsum(w)
        if total > 0:
            w = [x / total for x in w]
    return Datum(
        model_input=inputs,
        loss_fn_inputs={
            "weights": TensorData(w, "float32", [len(w)]),
            "target_tokens": TensorData(targets, "int64", [len(targets)]),
        },
    )
