"""Client-side custom losses for ``forward_backward_custom`` (§7), without torch.

The user's loss sees each datum's target log-probs and returns ``(loss, metrics, grads)`` where
``grads[i]`` is ∂loss/∂logprobs of datum ``i`` (flat list, or nested like ``target_tokens``). The
server then runs cross-entropy with ``weights = −grads``: its loss ``−Σ w·lp`` has exactly the
gradient ∂loss/∂θ because the forward pass used the same weights.

With torch installed, the official form also works: return ``(loss_tensor, metrics)`` and the
gradients come from autograd.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from typing import Any

from ..errors import ValidationError
from ..types._lazy import dataclass
from ..types.custom_loss_input import CustomLossInput

CustomLossResult = tuple[float, dict[str, float], Sequence[Any]]
CustomLossFn = Callable[[list[Any], list[list[float]]], Any]

# SDK 0.38: a per-datum loss ``(logprobs, *loss_fn_inputs it reads) -> (scalar loss, {custom/<name>:sum|mean})``.
PerDatumLossFn = Callable[..., tuple[Any, Mapping[str, Any]]]


@dataclass(frozen=True)
class LossHandle:
    """A loss registered with ``ServiceClient.create_custom_loss`` (SDK 0.38): its name, its inputs
    (``logprobs`` first, then the ``loss_fn_inputs`` keys in call order, each with a rank), the session it
    belongs to, and the traced graph. tinkerlite cannot trace (no torch.fx), so handles only come from
    code that builds them; ``forward_backward_custom`` takes the loss callable instead."""

    name: str
    inputs: tuple[CustomLossInput, ...]
    session_id: str
    graph: Any = field(repr=False, compare=False)
    loss_id: str | None = None

    @property
    def key(self) -> str:
        """Identifies the traced loss (its code and inputs), so a session registers each loss once."""
        digest = hashlib.sha256(str(getattr(self.graph, "code", self.graph)).encode())
        digest.update(repr(self.inputs).encode())
        return digest.hexdigest()

    @property
    def input_names(self) -> tuple[str, ...]:
        """The ``loss_fn_inputs`` keys the loss reads, in the order it takes them."""
        return tuple(i.name for i in self.inputs[1:])


def _flatten(values: Any) -> list[float]:
    if hasattr(values, "tolist"):
        values = values.tolist()
    if isinstance(values, list) and (not values or not isinstance(values[0], (list, tuple))):
        try:
            return list(map(float, values))  # the common case: one flat list per datum, in C
        except TypeError:
            pass  # nested further down: fall through to the general walk
    out: list[float] = []
    stack = [values]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(reversed(v))
        else:
            out.append(float(v))
    return out


def forward_datum(datum: Any) -> Any:
    """The forward-pass datum: model input (and spans), ``target_tokens``, ``weights`` (zeros if absent)."""
    from ..types import Datum, TensorData

    inputs = datum.loss_fn_inputs
    if "target_tokens" not in inputs:
        raise ValidationError("forward_backward_custom needs target_tokens", field="Datum.loss_fn_inputs")
    tt = inputs["target_tokens"]
    weights = inputs.get("weights")
    if weights is None:
        shape = list(tt.resolved_shape)
        n = 1
        for d in shape:
            n *= d
        weights = TensorData(data=[0.0] * n, dtype="float32", shape=shape)
    return Datum(
        model_input=datum.model_input,
        loss_fn_inputs={"target_tokens": tt, "weights": weights},
        model_input_spans=datum.model_input_spans,
        loss_fn_input_spans=datum.loss_fn_input_spans,
    )


def surrogate_datum(datum: Any, grad: Any, index: int) -> Any:
    """Same model input and targets, ``weights = −grad`` (shape of ``target_tokens``)."""
    from ..types import Datum, TensorData

    tt = datum.loss_fn_inputs["target_tokens"]
    shape = list(tt.resolved_shape)
    flat = _flatten(grad)
    n = 1
    for d in shape:
        n *= d
    if len(flat) != n:
        raise ValidationError(
            f"gradient has {len(flat)} values but target_tokens has shape {shape}", field=f"grads[{index}]"
        )
    return Datum(
        model_input=datum.model_input,
        loss_fn_inputs={
            "target_tokens": tt,
            "weights": TensorData(data=[-g for g in flat], dtype="float32", shape=shape),
        },
        model_input_spans=datum.model_input_spans,
        loss_fn_input_spans=datum.loss_fn_input_spans,
    )


def logprobs_lists(outputs: Sequence[dict[str, Any]]) -> list[list[float]]:
    """Each datum's ``logprobs`` as a (nested, for 2-D targets) Python list."""
    out = []
    for i, o in enumerate(outputs):
        if "logprobs" not in o:
            raise ValidationError("forward output has no 'logprobs'", field=f"loss_fn_outputs[{i}]")
        out.append(o["logprobs"].tolist())
    return out


def run_loss(
    loss_fn: CustomLossFn, data: list[Any], logprobs: list[list[float]]
) -> tuple[float, dict[str, float], list[Any]]:
    """Call the user's loss; return ``(loss, metrics, grads)`` whichever form it uses."""
    try:
        result = loss_fn(data, logprobs)
    except (TypeError, AttributeError):
        # A torch-style loss called with lists fails on tensor methods; give it tensors instead.
        from .._optional import try_import

        if try_import("torch") is None:
            raise
        return _run_torch_loss(loss_fn, data, logprobs)
    if isinstance(result, tuple) and len(result) == 3:
        loss, metrics, grads = result
        grads = list(grads)
        if len(grads) != len(data):
            raise ValidationError(f"loss returned {len(grads)} gradients for {len(data)} datums", field="grads")
        return float(loss), {k: float(v) for k, v in dict(metrics).items()}, grads
    if isinstance(result, tuple) and len(result) == 2:
        return _run_torch_loss(loss_fn, data, logprobs)
    raise ValidationError(
        "a custom loss must return (loss, metrics, grads), or (loss_tensor, metrics) when torch is used",
        field="loss_fn",
    )


def _run_torch_loss(
    loss_fn: CustomLossFn, data: list[Any], logprobs: list[list[float]]
) -> tuple[float, dict[str, float], list[Any]]:
    from .._optional import require

    torch = require("torch", "forward_backward_custom with a (loss_tensor, metrics) loss", extra="torch")
    tensors = [torch.tensor(lp, dtype=torch.float32, requires_grad=True) for lp in logprobs]
    loss, metrics = loss_fn(data, tensors)
    loss.backward()
    grads = [(t.grad if t.grad is not None else torch.zeros_like(t)).detach().reshape(-1).tolist() for t in tensors]
    return float(loss.item()), {k: float(v) for k, v in dict(metrics).items()}, grads
