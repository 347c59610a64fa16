"""``tinker.types.sample_request`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal

from ._lazy import dataclass
from ._wire_record import WireRecord
from .model_input import ModelInput
from .params import SamplingParams
from .tensor_data import TensorData

__all__ = ["SampleRequest"]


@dataclass(kw_only=True)
class SampleRequest(WireRecord):
    num_samples: int = 1
    prompt: ModelInput
    sampling_params: SamplingParams
    base_model: str | None = None
    model_path: str | None = None
    sampling_session_id: str | None = None
    seq_id: int | None = None
    prompt_logprobs: bool | None = None
    topk_prompt_logprobs: int = 0
    topk_sample_logprobs: int = 0
    target_prompt_logprobs: TensorData | None = None
    prompt_alt_tokens_k: int = 0
    prompt_logprobs_last_n: int | None = None
    record_stability_info: bool | None = None
    type: Literal["sample"] = "sample"
    _nested = {"prompt": ModelInput, "sampling_params": SamplingParams, "target_prompt_logprobs": TensorData}  # noqa: RUF012
