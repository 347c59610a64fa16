"""Optimizer families (``tinker.types.optimizer``, SDK 0.38): chosen at model creation, tuned per step.

A model is created with an ``OptimizerConfig`` (``{"type": "adamw"}`` or ``{"type": "dimuon", "version": 1}``)
and every ``optim_step`` carries that family's ``OptimParams``. ``AdamParams`` has no ``type`` field and
travels as ``"adam_params"``; every other family subclasses ``OptimParamsBase`` and travels as
``"optimizer_params"`` with its ``type``. The ``*Base`` classes keep unknown families' fields (the SDK's
``extra="allow"``) so a newer server's family round-trips; the concrete families reject unknown keys.
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal, TypeAlias, TypeVar

from ..errors import ProtocolError, ValidationError
from ._lazy import dataclass
from ._record import JsonRecord
from .params import _finite

__all__ = [
    "AdamOptimizerConfig",
    "AdamParams",
    "DimuonOptimizerConfig",
    "DimuonParams",
    "OptimParams",
    "OptimParamsBase",
    "OptimizerConfig",
    "OptimizerConfigBase",
]


F = TypeVar("F", bound="_Family")


class _Family:
    """A frozen ``type``-tagged record that also keeps extra fields (for families this SDK doesn't know)."""

    type: str
    _extra: dict[str, Any]

    def __init__(self, *, type: str, **extra: Any) -> None:
        if not isinstance(type, str) or not type:
            raise ValidationError(f"must be a non-empty string, got {type!r}", field=f"{self.__class__.__name__}.type")
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "_extra", dict(extra))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __getattr__(self, name: str) -> Any:
        extra = self.__dict__.get("_extra", {})
        if name in extra:
            return extra[name]
        raise AttributeError(name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Family) and type(other) is type(self) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.to_json().items(), key=lambda kv: kv[0]))))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_json().items())
        return f"{type(self).__name__}({args})"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, **self._extra}

    # the pydantic methods user code calls on SDK types
    def model_dump(self, **_ignored: Any) -> dict[str, Any]:
        return self.to_json()

    def model_dump_json(self, *, indent: int | None = None, **_ignored: Any) -> str:
        return json.dumps(self.to_json(), indent=indent)

    def model_copy(self: F, *, update: dict[str, Any] | None = None, deep: bool = False) -> F:
        return type(self)(**{**self.to_json(), **(update or {})})


class OptimizerConfigBase(_Family):
    """An optimizer family selected at model creation, identified by ``type``; keeps the family's fields."""

    @classmethod
    def from_json(cls, obj: Any) -> OptimizerConfig:
        """The concrete family for known ``type`` values, else a base record keeping every field."""
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise ProtocolError(f"OptimizerConfig: expected an object with a string 'type', got {obj!r}")
        if obj["type"] == "adamw":
            return AdamOptimizerConfig(**obj)
        if obj["type"] == "dimuon":
            return DimuonOptimizerConfig(**obj)
        return OptimizerConfigBase(**obj)


class AdamOptimizerConfig(OptimizerConfigBase):
    """AdamW, the default family."""

    def __init__(self, *, type: Literal["adamw"] = "adamw") -> None:
        if type != "adamw":
            raise ValidationError(f"must be 'adamw', got {type!r}", field="AdamOptimizerConfig.type")
        super().__init__(type=type)


class DimuonOptimizerConfig(OptimizerConfigBase):
    """Selects Dimuon (momentum + orthogonalised matrix updates) for a training model."""

    version: Literal[1]

    def __init__(self, *, type: Literal["dimuon"] = "dimuon", version: Literal[1] = 1) -> None:
        if type != "dimuon":
            raise ValidationError(f"must be 'dimuon', got {type!r}", field="DimuonOptimizerConfig.type")
        if version != 1 or isinstance(version, bool):
            raise ValidationError(f"must be 1, got {version!r}", field="DimuonOptimizerConfig.version")
        super().__init__(type=type, version=version)


OptimizerConfig: TypeAlias = AdamOptimizerConfig | OptimizerConfigBase


@dataclass(frozen=True)
class AdamParams(JsonRecord):
    """Per-step AdamW hyperparameters (decoupled weight decay; ``grad_clip_norm`` 0 disables clipping)."""

    learning_rate: float = 0.0001
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-12
    weight_decay: float = 0.0
    grad_clip_norm: float = 0.0

    def __post_init__(self) -> None:
        _finite(self, "learning_rate", lo=0.0)
        _finite(self, "beta1", lo=0.0, hi=1.0)
        _finite(self, "beta2", lo=0.0, hi=1.0)
        _finite(self, "eps", lo=0.0)
        _finite(self, "weight_decay", lo=0.0)
        _finite(self, "grad_clip_norm", lo=0.0)


class OptimParamsBase(_Family):
    """Per-step hyperparameters of a non-Adam family, identified by ``type``; keeps the family's fields."""

    @classmethod
    def from_json(cls, obj: Any) -> OptimParams:
        if isinstance(obj, dict) and "type" not in obj:
            return AdamParams.from_json(obj)  # Adam's params carry no tag
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise ProtocolError(f"OptimParams: expected an object with a string 'type', got {obj!r}")
        if obj["type"] == "dimuon":
            return DimuonParams(**obj)
        return OptimParamsBase(**obj)


class DimuonParams(OptimParamsBase):
    """One Dimuon step: ``learning_rate`` >= 0, ``beta1`` momentum EMA in [0, 1), ``grad_clip_norm`` <= 0
    disables clipping. Non-finite values are rejected (the SDK's ``allow_inf_nan=False``)."""

    learning_rate: float
    grad_clip_norm: float
    beta1: float

    def __init__(
        self,
        *,
        type: Literal["dimuon"] = "dimuon",
        learning_rate: float,
        grad_clip_norm: float = 0.0,
        beta1: float = 0.9,
    ) -> None:
        if type != "dimuon":
            raise ValidationError(f"must be 'dimuon', got {type!r}", field="DimuonParams.type")
        for name, value in (("learning_rate", learning_rate), ("grad_clip_norm", grad_clip_norm), ("beta1", beta1)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValidationError(f"must be a finite number, got {value!r}", field=f"DimuonParams.{name}")
        if learning_rate < 0:
            raise ValidationError(f"must be >= 0, got {learning_rate}", field="DimuonParams.learning_rate")
        if not 0 <= beta1 < 1:
            raise ValidationError(f"must be in [0, 1), got {beta1}", field="DimuonParams.beta1")
        super().__init__(type=type, learning_rate=learning_rate, grad_clip_norm=grad_clip_norm, beta1=beta1)


OptimParams: TypeAlias = AdamParams | OptimParamsBase
