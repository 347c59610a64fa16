"""Datum: one training example (input tokens plus per-token loss inputs)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import field
from typing import Any, TypeAlias

from ..errors import ValidationError
from ._frozen import set_frozen
from ._lazy import dataclass
from ._record import PydanticCompat
from .model_input import ModelInput
from .provenance import PromptProvenanceSpan, ProvenanceSpans, SampledProvenanceSpan
from .tensor_data import TensorData, TensorDtype

__all__ = ["KEY_TO_DTYPE", "Datum", "LossFnInputs", "LossFnOutput"]

LossFnInputs: TypeAlias = dict[str, TensorData]
LossFnOutput: TypeAlias = dict[str, TensorData]

#: dtype inferred for bare lists, by key (the official SDK's table).
KEY_TO_DTYPE: dict[str, TensorDtype] = {
    "target_tokens": "int64",
    "weights": "float32",
    "advantages": "float32",
    "logprobs": "float32",
    "clip_low_threshold": "float32",
    "clip_high_threshold": "float32",
    "sequence_ratio_mask": "float32",
}
_SPARSE_ELIGIBLE = ("target_tokens", "weights")


def _coerce(key: str, value: Any) -> TensorData:
    where = f"Datum.loss_fn_inputs[{key!r}]"
    if isinstance(value, TensorData):
        return value
    if type(value).__module__ == "numpy" and type(value).__name__ == "ndarray":
        return TensorData.from_numpy(value)
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        td = TensorData.from_torch(value)
        if key in _SPARSE_ELIGIBLE and len(td.resolved_shape) == 2:
            return sparsify(td)
        return td
    if isinstance(value, (list, tuple)):
        dtype = KEY_TO_DTYPE.get(key)
        if dtype is None:
            # Unknown key: infer like numpy would (all ints -> int64, otherwise float32).
            flat = value
            while flat and isinstance(flat[0], (list, tuple)):
                flat = flat[0]
            dtype = "int64" if all(isinstance(v, int) and not isinstance(v, bool) for v in flat) else "float32"
        if value and isinstance(value[0], (list, tuple)):
            return TensorData(data=value, dtype=dtype, _field=where)  # nested: shape inferred
        return TensorData(data=value, dtype=dtype, shape=[len(value)], _field=where)
    raise ValidationError(f"unsupported value type {type(value).__name__}", field=where)


def sparsify(td: TensorData, pad_value: float = 0) -> TensorData:
    """CSR form of a dense 2-D tensor when that is smaller, as the official SDK does for torch input."""
    shape = td.resolved_shape
    if td.is_sparse or len(shape) != 2:
        return td
    nrows, ncols = shape
    flat = td.flat
    crow, col, vals = [0], [], []
    for r in range(nrows):
        for c in range(ncols):
            v = flat[r * ncols + c]
            if v != pad_value:
                col.append(c)
                vals.append(v)
        crow.append(len(col))
    if (nrows + 1) + 2 * len(col) >= nrows * ncols:
        return td
    return TensorData(vals, td.dtype, shape, crow, col)


@dataclass(frozen=True)
class Datum(PydanticCompat):
    model_input: ModelInput
    loss_fn_inputs: Mapping[str, Any] = field(default_factory=dict)
    model_input_spans: ProvenanceSpans | None = None
    loss_fn_input_spans: ProvenanceSpans | None = None

    def __post_init__(self) -> None:
        mi = self.model_input
        if isinstance(mi, dict):
            mi = ModelInput.from_json(mi)
            set_frozen(self, "model_input", mi)
        elif not isinstance(mi, ModelInput):
            raise ValidationError(f"must be a ModelInput, got {type(mi).__name__}", field="Datum.model_input")
        if not isinstance(self.loss_fn_inputs, Mapping):
            raise ValidationError(
                f"must be a dict, got {type(self.loss_fn_inputs).__name__}", field="Datum.loss_fn_inputs"
            )
        coerced: dict[str, TensorData] = {}
        for key, value in self.loss_fn_inputs.items():
            if not isinstance(key, str):
                raise ValidationError(f"keys must be strings, got {key!r}", field="Datum.loss_fn_inputs")
            coerced[key] = _coerce(key, value)
        set_frozen(self, "loss_fn_inputs", coerced)
        for name in ("model_input_spans", "loss_fn_input_spans"):
            spans = getattr(self, name)
            if spans is None:
                continue
            for i, s in enumerate(spans):
                if not isinstance(s, (PromptProvenanceSpan, SampledProvenanceSpan)):
                    raise ValidationError(
                        f"entry {i} must be a PromptProvenanceSpan or SampledProvenanceSpan", field=f"Datum.{name}"
                    )
            set_frozen(self, name, list(spans))
        if (self.model_input_spans is None) != (self.loss_fn_input_spans is None):
            raise ValidationError("provenance comes as a pair: set both span lists or neither", field="Datum")

    def with_provenance(self, model_input: ProvenanceSpans, loss_fn_inputs: ProvenanceSpans) -> Datum:
        """A copy carrying provenance; checks that each span list tiles its field exactly."""
        _check_tiling("model_input", model_input, self.model_input.length)
        tt = self.loss_fn_inputs.get("target_tokens")
        if tt is not None and len(tt.resolved_shape) == 1:
            _check_tiling("loss_fn_inputs", loss_fn_inputs, tt.resolved_shape[0])
        return dataclasses.replace(self, model_input_spans=model_input, loss_fn_input_spans=loss_fn_inputs)

    def __repr__(self) -> str:
        keys = ", ".join(f"{k}: {v.dtype}{v.resolved_shape}" for k, v in self.loss_fn_inputs.items())
        mi = self.model_input
        return f"Datum(model_input=<{mi.length} tokens, {len(mi.chunks)} chunks>, loss_fn_inputs={{{keys}}})"


def _check_tiling(name: str, spans: ProvenanceSpans, expected: int) -> None:
    total = sum(s.length for s in spans)
    if total != expected:
        raise ValidationError(
            f"spans cover {total} positions but the field has {expected}", field=f"with_provenance.{name}"
        )
