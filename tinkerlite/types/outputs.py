"""Results of forward/backward and sampling."""

from __future__ import annotations

import math
from array import array
from dataclasses import field
from typing import Any

from .._optional import require
from ..errors import ValidationError
from ._lazy import dataclass
from ._record import PydanticCompat
from .tensor_data import TensorData

__all__ = [
    "EMPTY_TOPK_CELL",
    "ForwardBackwardOutput",
    "PromptAltTokens",
    "SampleResponse",
    "SampledSequence",
    "TopkLogprobs",
    "TopkRows",
]

#: The wire marks a missing top-k cell as (token 0, logprob -99999.0).
EMPTY_TOPK_CELL = (0, -99999.0)
TopkRows = list[list[tuple[int, float]] | None]


@dataclass(frozen=True)
class ForwardBackwardOutput(PydanticCompat):
    loss_fn_output_type: str
    loss_fn_outputs: list[dict[str, TensorData]]
    metrics: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"ForwardBackwardOutput(loss_fn_output_type={self.loss_fn_output_type!r}, "
            f"loss_fn_outputs=<{len(self.loss_fn_outputs)} datums>, metrics={self.metrics!r})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "loss_fn_output_type": self.loss_fn_output_type,
            "loss_fn_outputs": [{k: tensor_to_json(v) for k, v in o.items()} for o in self.loss_fn_outputs],
            "metrics": dict(self.metrics),
        }

    @classmethod
    def from_json(cls, obj: Any) -> ForwardBackwardOutput:
        if not isinstance(obj, dict) or not isinstance(obj.get("loss_fn_outputs"), list):
            raise ValidationError("expected {'loss_fn_outputs': [...], ...}", field="ForwardBackwardOutput")
        outs = [
            {k: tensor_from_json(v, f"loss_fn_outputs[{i}].{k}") for k, v in o.items()}
            for i, o in enumerate(obj["loss_fn_outputs"])
        ]
        return cls(str(obj.get("loss_fn_output_type", "")), outs, dict(obj.get("metrics") or {}))


def tensor_to_json(td: TensorData) -> dict[str, Any]:
    out: dict[str, Any] = {"data": td.data, "dtype": td.dtype}
    if td.shape is not None:
        out["shape"] = list(td.shape)
    if td.sparse_crow_indices is not None:
        out["sparse_crow_indices"] = list(td.sparse_crow_indices)
        out["sparse_col_indices"] = list(td.sparse_col_indices or [])
    return out


def tensor_from_json(obj: Any, field: str = "TensorData") -> TensorData:
    if not isinstance(obj, dict) or "data" not in obj or "dtype" not in obj:
        raise ValidationError("expected {'data': [...], 'dtype': ...}", field=field)
    return TensorData(
        data=obj["data"],
        dtype=obj["dtype"],
        shape=obj.get("shape"),
        sparse_crow_indices=obj.get("sparse_crow_indices"),
        sparse_col_indices=obj.get("sparse_col_indices"),
        _field=field,
    )


@dataclass(frozen=True)
class TopkLogprobs:
    """Dense ``length × k`` matrices as on the wire; ``to_lists`` gives the user-facing form."""

    token_ids: array  # type: ignore[type-arg]  # int32, row-major
    logprobs: array  # type: ignore[type-arg]  # float32, row-major
    k: int
    length: int

    def __post_init__(self) -> None:
        if len(self.token_ids) != self.k * self.length or len(self.logprobs) != self.k * self.length:
            raise ValidationError(
                f"top-k tables need {self.k}×{self.length} cells, got {len(self.token_ids)} ids "
                f"and {len(self.logprobs)} logprobs",
                field="TopkLogprobs",
            )

    def to_lists(self) -> TopkRows:
        rows: TopkRows = []
        k = self.k
        ids, lps = self.token_ids, self.logprobs
        for r in range(self.length):
            base = r * k
            if k == 0 or (ids[base] == 0 and lps[base] == EMPTY_TOPK_CELL[1]):
                rows.append(None)
                continue
            row = []
            for j in range(base, base + k):
                if ids[j] == 0 and lps[j] == EMPTY_TOPK_CELL[1]:
                    break
                row.append((int(ids[j]), float(lps[j])))
            rows.append(row)
        return rows

    @classmethod
    def from_lists(cls, rows: TopkRows, k: int | None = None) -> TopkLogprobs:
        if k is None:
            k = max((len(r) for r in rows if r), default=0)
        ids = array("i", [0]) * (k * len(rows))
        lps = array("f", [EMPTY_TOPK_CELL[1]]) * (k * len(rows))
        for i, row in enumerate(rows):
            for j, (tok, lp) in enumerate((row or [])[:k]):
                ids[i * k + j] = tok
                lps[i * k + j] = lp
        return cls(ids, lps, k, len(rows))


@dataclass(frozen=True)
class PromptAltTokens:
    tokens: TensorData
    logprobs: TensorData


@dataclass(frozen=True)
class SampledSequence:
    stop_reason: str
    tokens: list[int]
    logprobs: list[float] | None = None
    topk_logprobs: TopkRows | None = None
    sequence_id: str | None = None

    @property
    def tokens_np(self) -> Any:
        """The tokens as the SDK's 1-D int32 numpy array (needs numpy: the ``fast`` extra)."""
        np = require("numpy", "SampledSequence.tokens_np")
        return np.asarray(self.tokens, dtype=np.int32)

    @property
    def logprobs_np(self) -> Any:
        """The log-probs as the SDK's 1-D float32 numpy array, or None when not returned."""
        if self.logprobs is None:
            return None
        np = require("numpy", "SampledSequence.logprobs_np")
        return np.asarray(self.logprobs, dtype=np.float32)

    def __repr__(self) -> str:
        head = self.tokens[:8]
        more = f", ... ({len(self.tokens)} tokens)" if len(self.tokens) > 8 else ""
        toks = f"{str(head)[:-1]}{more}]"
        return f"SampledSequence(stop_reason={self.stop_reason!r}, tokens={toks}, sequence_id={self.sequence_id!r})"


@dataclass(frozen=True)
class SampleResponse(PydanticCompat):
    sequences: list[SampledSequence]
    prompt_logprobs: list[float | None] | None = None
    topk_prompt_logprobs: TopkRows | None = None
    prompt_cache_hit_tokens: int = 0
    target_prompt_logprobs: TensorData | None = None
    prompt_alt_tokens: PromptAltTokens | None = None
    type: str = "sample"

    @property
    def prompt_logprobs_np(self) -> Any:
        """Prompt log-probs as the SDK's float32 numpy array (NaN where unscored), or None."""
        if self.prompt_logprobs is None:
            return None
        np = require("numpy", "SampleResponse.prompt_logprobs_np")
        return np.asarray([math.nan if v is None else v for v in self.prompt_logprobs], dtype=np.float32)

    def to_json(self) -> dict[str, Any]:
        """The legacy JSON form (§5.7); NaN never appears, unscored positions are null."""
        out: dict[str, Any] = {
            "type": "sample",
            "sequences": [
                {"stop_reason": s.stop_reason, "tokens": list(s.tokens), "logprobs": s.logprobs} for s in self.sequences
            ],
            "prompt_logprobs": None
            if self.prompt_logprobs is None
            else [None if v is None or math.isnan(v) else v for v in self.prompt_logprobs],
            "topk_prompt_logprobs": None
            if self.topk_prompt_logprobs is None
            else [None if r is None else [[t, lp] for t, lp in r] for r in self.topk_prompt_logprobs],
            "prompt_cache_hit_tokens": self.prompt_cache_hit_tokens,
        }
        return out

    @classmethod
    def from_json(cls, obj: Any) -> SampleResponse:
        if not isinstance(obj, dict) or not isinstance(obj.get("sequences"), list):
            raise ValidationError("expected {'sequences': [...], ...}", field="SampleResponse")
        seqs = [
            SampledSequence(
                stop_reason=str(s.get("stop_reason", "stop")),
                tokens=list(s.get("tokens") or []),
                logprobs=s.get("logprobs"),
            )
            for s in obj["sequences"]
        ]
        topk = obj.get("topk_prompt_logprobs")
        return cls(
            sequences=seqs,
            prompt_logprobs=obj.get("prompt_logprobs"),
            topk_prompt_logprobs=None
            if topk is None
            else [None if r is None else [(int(t), float(lp)) for t, lp in r] for r in topk],
            prompt_cache_hit_tokens=int(obj.get("prompt_cache_hit_tokens") or 0),
        )
