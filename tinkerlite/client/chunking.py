"""forward_backward chunk planning (§6.1) and chunk-result combination (§5.4).

The byte estimate is the official one, computed before compression: 4 bytes per token, the raw
length of image/dmel payloads, tensor bytes in their declared dtype, 8 bytes per CSR index.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..types._lazy import dataclass

logger = logging.getLogger(__name__)

PROTO_BYTES_PER_TOKEN = 4
SPARSE_INDEX_BYTES = 8
_DTYPE_BYTES = {"int64": 8, "float32": 4}


def estimate_chunk_bytes(chunk: Any) -> int:
    kind = getattr(chunk, "type", "encoded_text")
    if kind == "dmel":
        return len(chunk.dmel)
    if kind == "image":
        return len(chunk.data)
    if kind == "image_asset_pointer":
        return len(chunk.location)
    return int(chunk.length) * PROTO_BYTES_PER_TOKEN


def estimate_tensor_bytes(td: Any) -> int:
    flat = getattr(td, "flat", None)
    if flat is not None:
        n = len(flat) * flat.itemsize
    else:
        n = len(td.data) * _DTYPE_BYTES.get(td.dtype, 8)
    for idx in (td.sparse_crow_indices, td.sparse_col_indices):
        if idx is not None:
            n += SPARSE_INDEX_BYTES * len(idx)
    return int(n)


def estimate_datum_bytes(datum: Any) -> int:
    return int(sum(estimate_chunk_bytes(c) for c in datum.model_input.chunks)) + sum(
        estimate_tensor_bytes(td) for td in datum.loss_fn_inputs.values()
    )


@dataclass(frozen=True)
class Chunk:
    start: int  # index of the first datum in the caller's list
    data: list[Any]
    estimated_bytes: int


def plan_chunks(
    data: Sequence[Any],
    max_len: int = 1024,
    max_bytes: int = 5_000_000,
    estimate: Callable[[Any], int] = estimate_datum_bytes,
) -> list[Chunk]:
    """Greedy cut: a new chunk when it has ``max_len`` datums or the next datum would pass ``max_bytes``.

    A single datum larger than ``max_bytes`` still gets a chunk of its own (the server judges it).
    """
    if max_len < 1:
        raise ValueError(f"fwdbwd_max_chunk_len must be >= 1, got {max_len}")
    chunks: list[Chunk] = []
    current: list[Any] = []
    current_bytes = 0
    start = 0
    for i, datum in enumerate(data):
        size = estimate(datum)
        if (current and current_bytes + size > max_bytes) or len(current) == max_len:
            chunks.append(Chunk(start, current, current_bytes))
            current, current_bytes, start = [], 0, i
        current.append(datum)
        current_bytes += size
    if current:
        chunks.append(Chunk(start, current, current_bytes))
    return chunks


def submission_order(n_chunks: int, parallel: bool) -> list[int]:
    """Indices in the order chunks are POSTed: with parallel chunks the first goes last."""
    if parallel and n_chunks > 1:
        return [*range(1, n_chunks), 0]
    return list(range(n_chunks))


# ---- metric reduction -------------------------------------------------------------------------------


def _mean(values: Sequence[float], weights: Sequence[float]) -> float:
    total = sum(weights)
    if total == 0:
        return sum(values) / len(values)
    return sum(v * w for v, w in zip(values, weights, strict=True)) / total


def _hash2(values: Sequence[float]) -> float:
    mask = 0xFFFF_FFFF_FFFF_FFFF
    return float(sum(int(v) & mask for v in values) & mask)


REDUCTIONS = frozenset({"mean", "sum", "min", "max", "slack", "hash2", "unique"})


def reduce_metrics(metrics: Sequence[dict[str, float]], weights: Sequence[float]) -> dict[str, float]:
    """Combine per-chunk metrics by their ``name:reduction`` suffix, weighting means by datum count.

    Keys come from the first chunk; a key missing from any chunk, or with an unknown reduction, is
    dropped (as the SDK does). A key without exactly one ``:`` is an error, as in the SDK.
    """
    if not metrics:
        return {}
    out: dict[str, float] = {}
    for key in metrics[0]:
        parts = key.split(":")
        if len(parts) != 2:
            raise ValueError(f"metric key {key!r} must look like 'name:reduction'")
        reduction = parts[1]
        if reduction not in REDUCTIONS:
            logger.debug("dropping metric %r with unknown reduction", key)
            continue
        if not all(key in m for m in metrics):
            continue
        values = [float(m[key]) for m in metrics]
        if reduction == "mean":
            out[key] = _mean(values, weights)
        elif reduction == "slack":
            out[key] = max(values) - _mean(values, weights)
        elif reduction == "sum":
            out[key] = math.fsum(values)
        elif reduction == "min":
            out[key] = min(values)
        elif reduction == "max":
            out[key] = max(values)
        elif reduction == "hash2":
            out[key] = _hash2(values)
        else:  # unique
            out[key] = values[0]
            out.update({f"{key}_{i + 1}": v for i, v in enumerate(values[1:])})
    return out


def combine_outputs(results: Iterable[Any], make: Callable[..., Any] | None = None) -> Any:
    """Concatenate ``loss_fn_outputs`` in chunk order and reduce ``metrics`` (§5.4)."""
    results = list(results)
    if make is None:
        from ..types import ForwardBackwardOutput

        make = ForwardBackwardOutput
    if not results:
        return make(loss_fn_output_type="", loss_fn_outputs=[], metrics={})
    weights = [float(len(r.loss_fn_outputs)) for r in results]
    return make(
        loss_fn_output_type=results[0].loss_fn_output_type,
        loss_fn_outputs=[o for r in results for o in r.loss_fn_outputs],
        metrics=reduce_metrics([r.metrics for r in results], weights),
    )
