"""Alias of :mod:`tinkerlite.hyperparam_utils` under the name the supervised-learning docs use."""

from __future__ import annotations

from .hyperparam_utils import (
    LoraParamsPerRank,
    get_full_finetune_lr_multiplier,
    get_full_finetune_param_count,
    get_hidden_size,
    get_lora_lr_multiplier,
    get_lora_lr_over_full_finetune_lr,
    get_lora_param_count,
    get_lora_params_per_rank,
    get_lr,
)

__all__ = [
    "LoraParamsPerRank",
    "get_full_finetune_lr_multiplier",
    "get_full_finetune_param_count",
    "get_hidden_size",
    "get_lora_lr_multiplier",
    "get_lora_lr_over_full_finetune_lr",
    "get_lora_param_count",
    "get_lora_params_per_rank",
    "get_lr",
]
