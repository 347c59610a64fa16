"""``tinker.types.future_retrieve_response`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import TypeAlias

from .outputs import ForwardBackwardOutput
from .records import (
    CreateModelResponse,
    LoadWeightsResponse,
    OptimStepResponse,
    RequestFailedResponse,
    SaveWeightsForSamplerResponse,
    SaveWeightsResponse,
    TryAgainResponse,
)
from .save_weights_external_response import SaveWeightsExternalResponse
from .unload_model_response import UnloadModelResponse

__all__ = ["FutureRetrieveResponse"]


FutureRetrieveResponse: TypeAlias = (
    TryAgainResponse
    | ForwardBackwardOutput
    | OptimStepResponse
    | SaveWeightsResponse
    | LoadWeightsResponse
    | SaveWeightsForSamplerResponse
    | SaveWeightsExternalResponse
    | CreateModelResponse
    | UnloadModelResponse
    | RequestFailedResponse
)
