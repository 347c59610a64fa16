"""Wire types, named as in the official ``tinker.types`` so porting is an import change.

Submodules load on first attribute access (PEP 562) so ``import tinkerlite`` stays in the low
milliseconds; ``from tinkerlite.types import Datum`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE: dict[str, str] = {
    "AdamParams": "params",
    "Checkpoint": "records",
    "CheckpointType": "records",
    "CheckpointsListResponse": "records",
    "ClientConfigResponse": "records",
    "CreateModelResponse": "records",
    "CreateSamplingSessionResponse": "records",
    "CreateSessionResponse": "records",
    "Cursor": "records",
    "Datum": "datum",
    "DimuonParams": "params",
    "DmelChunk": "model_input",
    "EncodedTextChunk": "model_input",
    "ForwardBackwardOutput": "outputs",
    "GetInfoResponse": "records",
    "GetSamplerResponse": "records",
    "GetServerCapabilitiesResponse": "records",
    "GetSessionResponse": "records",
    "HealthResponse": "records",
    "ImageAssetPointerChunk": "model_input",
    "ImageChunk": "model_input",
    "KEY_TO_DTYPE": "datum",
    "LOSS_FN_TYPES": "params",
    "ListSessionsResponse": "records",
    "LoadWeightsResponse": "records",
    "LoraConfig": "params",
    "LossFnInputs": "datum",
    "LossFnOutput": "datum",
    "LossFnType": "params",
    "ModelData": "records",
    "ModelInput": "model_input",
    "ModelInputChunk": "model_input",
    "OptimStepResponse": "records",
    "OptimizerConfig": "params",
    "ParsedCheckpointTinkerPath": "records",
    "PromptAltTokens": "outputs",
    "PromptProvenanceSpan": "provenance",
    "ProvenanceSpans": "provenance",
    "RequestErrorCategory": "records",
    "RequestFailedResponse": "records",
    "SampleResponse": "outputs",
    "SampledProvenanceSpan": "provenance",
    "SampledSequence": "outputs",
    "SamplingParams": "params",
    "SaveWeightsForSamplerResponse": "records",
    "SaveWeightsResponse": "records",
    "StopReason": "params",
    "SupportedModel": "records",
    "TensorData": "tensor_data",
    "TensorDtype": "tensor_data",
    "TopkLogprobs": "outputs",
    "TrainingRun": "records",
    "TrainingRunsResponse": "records",
    "TryAgainResponse": "records",
    "UntypedAPIFuture": "records",
    "WeightsInfoResponse": "records",
    "sparsify": "datum",
    "tensor_from_json": "outputs",
    "tensor_to_json": "outputs",
}

if TYPE_CHECKING:  # pragma: no cover
    from .datum import KEY_TO_DTYPE as KEY_TO_DTYPE
    from .datum import Datum as Datum
    from .datum import LossFnInputs as LossFnInputs
    from .datum import LossFnOutput as LossFnOutput
    from .datum import sparsify as sparsify
    from .model_input import DmelChunk as DmelChunk
    from .model_input import EncodedTextChunk as EncodedTextChunk
    from .model_input import ImageAssetPointerChunk as ImageAssetPointerChunk
    from .model_input import ImageChunk as ImageChunk
    from .model_input import ModelInput as ModelInput
    from .model_input import ModelInputChunk as ModelInputChunk
    from .outputs import ForwardBackwardOutput as ForwardBackwardOutput
    from .outputs import PromptAltTokens as PromptAltTokens
    from .outputs import SampledSequence as SampledSequence
    from .outputs import SampleResponse as SampleResponse
    from .outputs import TopkLogprobs as TopkLogprobs
    from .outputs import tensor_from_json as tensor_from_json
    from .outputs import tensor_to_json as tensor_to_json
    from .params import LOSS_FN_TYPES as LOSS_FN_TYPES
    from .params import AdamParams as AdamParams
    from .params import DimuonParams as DimuonParams
    from .params import LoraConfig as LoraConfig
    from .params import LossFnType as LossFnType
    from .params import OptimizerConfig as OptimizerConfig
    from .params import SamplingParams as SamplingParams
    from .params import StopReason as StopReason
    from .provenance import PromptProvenanceSpan as PromptProvenanceSpan
    from .provenance import ProvenanceSpans as ProvenanceSpans
    from .provenance import SampledProvenanceSpan as SampledProvenanceSpan
    from .records import Checkpoint as Checkpoint
    from .records import CheckpointsListResponse as CheckpointsListResponse
    from .records import CheckpointType as CheckpointType
    from .records import ClientConfigResponse as ClientConfigResponse
    from .records import CreateModelResponse as CreateModelResponse
    from .records import CreateSamplingSessionResponse as CreateSamplingSessionResponse
    from .records import CreateSessionResponse as CreateSessionResponse
    from .records import Cursor as Cursor
    from .records import GetInfoResponse as GetInfoResponse
    from .records import GetSamplerResponse as GetSamplerResponse
    from .records import GetServerCapabilitiesResponse as GetServerCapabilitiesResponse
    from .records import GetSessionResponse as GetSessionResponse
    from .records import HealthResponse as HealthResponse
    from .records import ListSessionsResponse as ListSessionsResponse
    from .records import LoadWeightsResponse as LoadWeightsResponse
    from .records import ModelData as ModelData
    from .records import OptimStepResponse as OptimStepResponse
    from .records import ParsedCheckpointTinkerPath as ParsedCheckpointTinkerPath
    from .records import RequestErrorCategory as RequestErrorCategory
    from .records import RequestFailedResponse as RequestFailedResponse
    from .records import SaveWeightsForSamplerResponse as SaveWeightsForSamplerResponse
    from .records import SaveWeightsResponse as SaveWeightsResponse
    from .records import SupportedModel as SupportedModel
    from .records import TrainingRun as TrainingRun
    from .records import TrainingRunsResponse as TrainingRunsResponse
    from .records import TryAgainResponse as TryAgainResponse
    from .records import UntypedAPIFuture as UntypedAPIFuture
    from .records import WeightsInfoResponse as WeightsInfoResponse
    from .tensor_data import TensorData as TensorData
    from .tensor_data import TensorDtype as TensorDtype


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'tinkerlite.types' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    "KEY_TO_DTYPE",
    "LOSS_FN_TYPES",
    "AdamParams",
    "Checkpoint",
    "CheckpointType",
    "CheckpointsListResponse",
    "ClientConfigResponse",
    "CreateModelResponse",
    "CreateSamplingSessionResponse",
    "CreateSessionResponse",
    "Cursor",
    "Datum",
    "DimuonParams",
    "DmelChunk",
    "EncodedTextChunk",
    "ForwardBackwardOutput",
    "GetInfoResponse",
    "GetSamplerResponse",
    "GetServerCapabilitiesResponse",
    "GetSessionResponse",
    "HealthResponse",
    "ImageAssetPointerChunk",
    "ImageChunk",
    "ListSessionsResponse",
    "LoadWeightsResponse",
    "LoraConfig",
    "LossFnInputs",
    "LossFnOutput",
    "LossFnType",
    "ModelData",
    "ModelInput",
    "ModelInputChunk",
    "OptimStepResponse",
    "OptimizerConfig",
    "ParsedCheckpointTinkerPath",
    "PromptAltTokens",
    "PromptProvenanceSpan",
    "ProvenanceSpans",
    "RequestErrorCategory",
    "RequestFailedResponse",
    "SampleResponse",
    "SampledProvenanceSpan",
    "SampledSequence",
    "SamplingParams",
    "SaveWeightsForSamplerResponse",
    "SaveWeightsResponse",
    "StopReason",
    "SupportedModel",
    "TensorData",
    "TensorDtype",
    "TopkLogprobs",
    "TrainingRun",
    "TrainingRunsResponse",
    "TryAgainResponse",
    "UntypedAPIFuture",
    "WeightsInfoResponse",
    "sparsify",
    "tensor_from_json",
    "tensor_to_json",
]
