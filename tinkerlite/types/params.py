"""Request parameters: sampling, LoRA, loss names (optimizer types live in ``optimizer``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, TypeAlias

from ..errors import ValidationError
from ._lazy import dataclass
from ._record import JsonRecord

__all__ = [
    "LoraConfig",
    "LossFnType",
    "SamplingParams",
    "StopReason",
]

LossFnType: TypeAlias = Literal[
    "cross_entropy", "importance_sampling", "ppo", "cispo", "dro", "gspo", "stable_reinforce", "custom"
]
LOSS_FN_TYPES: tuple[str, ...] = (
    "cross_entropy",
    "importance_sampling",
    "ppo",
    "cispo",
    "dro",
    "gspo",
    "stable_reinforce",
    "custom",
)
StopReason: TypeAlias = Literal["length", "stop"]


def _finite(obj: Any, name: str, *, lo: float | None = None, hi: float | None = None) -> None:
    v = getattr(obj, name)
    where = f"{type(obj).__name__}.{name}"
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValidationError(f"must be a finite number, got {v!r}", field=where)
    if lo is not None and v < lo:
        raise ValidationError(f"must be >= {lo}, got {v}", field=where)
    if hi is not None and v > hi:
        raise ValidationError(f"must be <= {hi}, got {v}", field=where)


def _opt_int(obj: Any, name: str, lo: int | None = None) -> None:
    v = getattr(obj, name)
    if v is None:
        return
    where = f"{type(obj).__name__}.{name}"
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValidationError(f"must be an int, got {v!r}", field=where)
    if lo is not None and v < lo:
        raise ValidationError(f"must be >= {lo}, got {v}", field=where)


@dataclass(frozen=True)
class SamplingParams(JsonRecord):
    max_tokens: int | None = None
    seed: int | None = None
    stop: str | Sequence[str] | Sequence[int] | None = None
    """``None`` keeps EOS stopping; ``[]`` disables every stop including EOS."""
    temperature: float = 1.0
    top_k: int = -1
    top_p: float = 1.0

    def __post_init__(self) -> None:
        _opt_int(self, "max_tokens", 0)
        _opt_int(self, "seed")
        _finite(self, "temperature", lo=0.0)
        _finite(self, "top_p", lo=0.0, hi=1.0)
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or (self.top_k < 1 and self.top_k != -1):
            raise ValidationError(f"must be -1 or a positive int, got {self.top_k!r}", field="SamplingParams.top_k")
        stop = self.stop
        if stop is not None and not isinstance(stop, str):
            items = list(stop)
            kinds = {type(x) for x in items}
            if not (kinds <= {str} or kinds <= {int}):
                raise ValidationError(
                    "must be a string, a list of strings, or a list of ints", field="SamplingParams.stop"
                )
            object.__setattr__(self, "stop", items)

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        if self.stop is not None:
            out["stop"] = self.stop if isinstance(self.stop, str) else list(self.stop)
        return out


@dataclass(frozen=True)
class LoraConfig(JsonRecord):
    rank: int
    seed: int | None = None
    train_unembed: bool = True
    train_mlp: bool = True
    train_attn: bool = True

    def __post_init__(self) -> None:
        _opt_int(self, "rank", 1)
        _opt_int(self, "seed")
        if not (self.train_unembed or self.train_mlp or self.train_attn):
            raise ValidationError(
                "at least one of train_unembed, train_mlp, train_attn must be true", field="LoraConfig"
            )
