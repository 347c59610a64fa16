"""``tinker.types.optim_step_request``: one optimizer step, serialised under the key its family uses.

``optim_params`` is never a wire key: Adam's params go out as ``"adam_params"`` (what every server
understands) and other families as ``"optimizer_params"``; reading accepts all three spellings, as the SDK's
validation aliases do.
"""

from __future__ import annotations

from typing import Any, Literal

from ..errors import ProtocolError
from ._lazy import dataclass
from ._record import JsonRecord
from .model_id import ModelID
from .optimizer import AdamParams as AdamParams
from .optimizer import OptimParams, OptimParamsBase

__all__ = ["AdamParams", "OptimStepRequest"]


@dataclass(kw_only=True)
class OptimStepRequest(JsonRecord):
    optim_params: OptimParams
    model_id: ModelID
    seq_id: int | None = None
    type: Literal["optim_step"] = "optim_step"

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        params = out.pop("optim_params")
        out["adam_params" if isinstance(self.optim_params, AdamParams) else "optimizer_params"] = params
        return out

    @classmethod
    def from_json(cls, obj: Any) -> OptimStepRequest:
        if not isinstance(obj, dict):
            raise ProtocolError(f"OptimStepRequest: expected a JSON object, got {type(obj).__name__}")
        keys = ("optim_params", "adam_params", "optimizer_params")
        raw = next((obj[k] for k in keys if obj.get(k) is not None), None)
        if raw is None or "model_id" not in obj:
            raise ProtocolError("OptimStepRequest: missing required field 'optim_params' or 'model_id'")
        return cls(
            optim_params=OptimParamsBase.from_json(raw),
            model_id=obj["model_id"],
            seq_id=obj.get("seq_id"),
        )
