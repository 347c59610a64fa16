"""The records of the local service (limits, training models, samplers, sampling jobs) and the LoRA
settings' validation: the plain data :mod:`.service` keeps and checks, apart from its operations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import auth
from .base_models import BaseModelSpec
from .scheduler import OpError
from .store import now_iso


@dataclass(frozen=True)
class ServiceLimits:
    max_models: int = 64
    max_samplers: int = 256
    max_num_samples: int = 256
    max_topk: int = 64
    stale_session_s: float = 120.0


@dataclass
class TrainingModel:
    model_id: str
    session_id: str
    spec: BaseModelSpec
    lora: dict[str, Any]  # the wire LoraConfig, normalised
    model: Any  # TinyTransformer
    user_metadata: dict[str, Any] = field(default_factory=dict)
    created: str = field(default_factory=now_iso)
    owner: str = field(default_factory=auth.current_user)  # the user whose request created it


@dataclass
class Sampler:
    sampler_id: str
    spec: BaseModelSpec
    model: Any  # TinyTransformer snapshot (read-only)
    model_path: str | None = None
    owner: str = field(default_factory=auth.current_user)


@dataclass(frozen=True)
class SampleJob:
    """A validated sampling request."""

    prompt: list[int]
    num_samples: int
    max_tokens: int | None
    temperature: float
    top_k: int
    top_p: float
    seed: int | None
    stop_token_ids: tuple[int, ...]
    stop_strings: tuple[str, ...]
    prompt_logprobs: bool
    topk_prompt_logprobs: int
    prompt_logprobs_last_n: int | None = None


def normalise_lora(obj: Any) -> dict[str, Any]:
    """The wire ``LoraConfig`` (or None: rank 32, everything trained) as a plain dict."""
    if obj is None:
        obj = {}
    if not isinstance(obj, dict):
        raise OpError("lora_config must be an object")
    out: dict[str, Any] = {"rank": obj.get("rank", 32), "seed": obj.get("seed", 0)}
    for key in ("train_attn", "train_mlp", "train_unembed"):
        out[key] = obj.get(key, True)
    for key in ("rank", "seed"):
        v = out[key]
        if v is None:
            out[key] = 32 if key == "rank" else 0
        elif isinstance(v, bool) or not isinstance(v, int) or v < 0 or v > (1 << 31):
            raise OpError(f"lora_config.{key} must be a non-negative integer, got {v!r}")
    if not 1 <= out["rank"] <= 512:
        raise OpError(f"lora_config.rank must lie in [1, 512], got {out['rank']}")
    for key in ("train_attn", "train_mlp", "train_unembed"):
        if out[key] is None:
            out[key] = True
        if not isinstance(out[key], bool):
            raise OpError(f"lora_config.{key} must be a boolean")
    if not (out["train_attn"] or out["train_mlp"] or out["train_unembed"]):
        raise OpError("lora_config: at least one of train_attn, train_mlp, train_unembed must be true")
    return out


def lora_from_meta(state: Mapping[str, Any]) -> dict[str, Any]:
    """Recover the LoRA settings a checkpoint was made with from its ``meta.lora_config`` entry."""
    meta = state.get("meta.lora_config")
    if meta is None or len(meta) != 5:
        raise OpError("checkpoint has no LoRA configuration")
    rank, seed, attn, mlp, unembed = (int(x) for x in meta)
    return {
        "rank": rank,
        "seed": seed,
        "train_attn": bool(attn),
        "train_mlp": bool(mlp),
        "train_unembed": bool(unembed),
    }
