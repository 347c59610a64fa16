"""Wire types, named and laid out as the official ``tinker.types`` so porting is an import change.

Every ``tinker.types.<submodule>`` of SDK 0.38 exists here as a real module of the same name (so type
checkers and ``from tinkerlite.types.datum import Datum`` work), defining the same names. The core types
(datums, model inputs, tensors, sampling and optimizer parameters, HTTP records) are hand-written in a few
concept modules (``datum``, ``model_input``, ``tensor_data``, ``params``, ``optimizer``, ``records``,
``outputs``, ``provenance``) and re-exported by their SDK-named modules; the remaining request/response
records live in their SDK-named module.

Names and submodules load on first attribute access (PEP 562) so ``import tinkerlite`` stays in the low
milliseconds; ``from tinkerlite.types import Datum`` works as usual.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

# name -> submodule defining it.
_WHERE: dict[str, str] = {
    "AccessibleSearchOwner": "search_owner",
    "ActiveSessionStatusQuery": "session_status_query",
    "AdamOptimizerConfig": "optimizer",
    "AdamParams": "optimizer",
    "AuditLogEntry": "audit_log_entry",
    "AuditLogResponse": "audit_log_response",
    "AuthTokenResponse": "auth_token_response",
    "BillingEventInfo": "billing_usage_response",
    "BillingUsageEvent": "billing_usage_response",
    "BillingUsageResponse": "billing_usage_response",
    "BillingUsageSession": "billing_usage_response",
    "CancelledSessionStatusQuery": "session_status_query",
    "Checkpoint": "records",
    "CheckpointBillingEvent": "billing_usage_response",
    "CheckpointType": "records",
    "CheckpointsListResponse": "records",
    "ClientConfigRequest": "client_config_request",
    "ClientConfigResponse": "records",
    "ClientDynamicConfigResponse": "client_dynamic_config_response",
    "ClientFinishedSessionStatusQuery": "session_status_query",
    "ClientSessionFinishErrored": "session_status",
    "ClientSessionFinishInterrupted": "session_status",
    "ClientSessionFinishReason": "session_status",
    "ClientSessionFinishReasonType": "session_status_query",
    "ClientSessionFinishSuccess": "session_status",
    "ClientSessionFinished": "session_status",
    "CopyWeightsRequest": "copy_weights_request",
    "CopyWeightsResponse": "copy_weights_response",
    "CreateCustomLossRequest": "create_custom_loss_request",
    "CreateCustomLossResponse": "create_custom_loss_response",
    "CreateModelRequest": "create_model_request",
    "CreateModelResponse": "records",
    "CreateSamplingSessionRequest": "create_sampling_session_request",
    "CreateSamplingSessionResponse": "records",
    "CreateSessionRequest": "create_session_request",
    "CreateSessionResponse": "records",
    "CurrentCheckpointStorageUsageItem": "current_checkpoint_storage_usage_response",
    "CurrentCheckpointStorageUsageResponse": "current_checkpoint_storage_usage_response",
    "Cursor": "records",
    "CustomLossGraph": "custom_loss_graph",
    "CustomLossInput": "custom_loss_input",
    "CustomLossInputRank": "custom_loss_input",
    "CustomLossNode": "custom_loss_graph",
    "Datum": "datum",
    "DimuonOptimizerConfig": "optimizer",
    "DimuonParams": "optimizer",
    "DmelChunk": "model_input",
    "EncodedTextChunk": "model_input",
    "EventType": "event_type",
    "ExternalWeightsUrlsResponse": "external_weights_urls_response",
    "FailedSessionStatusQuery": "session_status_query",
    "ForwardBackwardInput": "forward_backward_input",
    "ForwardBackwardOutput": "outputs",
    "ForwardBackwardRequest": "forward_backward_request",
    "ForwardRequest": "forward_request",
    "FutureCompletion": "future_completion",
    "FutureFailed": "future_completion",
    "FutureFinished": "future_completion",
    "FutureRetrieveRequest": "future_retrieve_request",
    "FutureRetrieveResponse": "future_retrieve_response",
    "FuturesRetrieveRequest": "futures_retrieve_request",
    "FuturesRetrieveResponse": "futures_retrieve_response",
    "GetBillingUsageRequest": "billing_usage_request",
    "GetCurrentCheckpointStorageUsageRequest": "current_checkpoint_storage_usage_request",
    "GetInfoRequest": "get_info_request",
    "GetInfoResponse": "records",
    "GetSamplerResponse": "records",
    "GetServerCapabilitiesResponse": "records",
    "GetSessionResponse": "records",
    "HealthResponse": "records",
    "ImageAssetPointerChunk": "model_input",
    "ImageChunk": "model_input",
    "JoinSamplingSessionRequest": "join_sampling_session_request",
    "JoinSamplingSessionResponse": "join_sampling_session_response",
    "KEY_TO_DTYPE": "datum",
    "LOSS_FN_TYPES": "params",
    "ListSessionsResponse": "records",
    "LoadWeightsRequest": "load_weights_request",
    "LoadWeightsResponse": "records",
    "LoraConfig": "params",
    "LossFnInputs": "datum",
    "LossFnOutput": "datum",
    "LossFnType": "params",
    "ModelData": "records",
    "ModelID": "model_id",
    "ModelInput": "model_input",
    "ModelInputChunk": "model_input",
    "OptimParams": "optimizer",
    "OptimStepRequest": "optim_step_request",
    "OptimStepResponse": "records",
    "OptimizerConfig": "optimizer",
    "OwnSearchOwner": "search_owner",
    "ParsedCheckpointTinkerPath": "records",
    "PromptAltTokens": "outputs",
    "PromptProvenanceSpan": "provenance",
    "ProvenanceSpans": "provenance",
    "RequestErrorCategory": "records",
    "RequestFailedResponse": "records",
    "RequestID": "request_id",
    "SampleRequest": "sample_request",
    "SampleResponse": "outputs",
    "SampledProvenanceSpan": "provenance",
    "SampledSequence": "outputs",
    "SamplingClientKind": "sampling_client_kind",
    "SamplingParams": "params",
    "SamplingPrefillBillingEvent": "billing_usage_response",
    "SamplingSampleBillingEvent": "billing_usage_response",
    "SamplingSessionFuturesTarget": "futures_retrieve_request",
    "SaveWeightsExternalRequest": "save_weights_external_request",
    "SaveWeightsExternalResponse": "save_weights_external_response",
    "SaveWeightsExternalResponseInternal": "save_weights_external_response",
    "SaveWeightsForSamplerRequest": "save_weights_for_sampler_request",
    "SaveWeightsForSamplerResponse": "records",
    "SaveWeightsForSamplerResponseInternal": "save_weights_for_sampler_response",
    "SaveWeightsRequest": "save_weights_request",
    "SaveWeightsResponse": "records",
    "SearchOwner": "search_owner",
    "SessionActive": "session_status",
    "SessionCancelled": "session_status",
    "SessionEndEvent": "session_end_event",
    "SessionFailed": "session_status",
    "SessionFailedReason": "session_status",
    "SessionFailedRequestReason": "session_status",
    "SessionFailedSamplingSessionReason": "session_status",
    "SessionFailedTrainingRunReason": "session_status",
    "SessionHeartbeatRequest": "session_heartbeat_request",
    "SessionHeartbeatResponse": "session_heartbeat_response",
    "SessionSearchCursor": "session_search_cursor",
    "SessionSearchRequest": "session_search_request",
    "SessionSearchResponse": "session_search_response",
    "SessionStartEvent": "session_start_event",
    "SessionStatus": "session_status",
    "SessionStatusQuery": "session_status_query",
    "SessionSummary": "session_summary",
    "Severity": "severity",
    "StopReason": "params",
    "StorageBillingEvent": "billing_usage_response",
    "SupportedModel": "records",
    "TelemetryBatch": "telemetry_batch",
    "TelemetryEvent": "telemetry_event",
    "TelemetryResponse": "telemetry_response",
    "TelemetrySendRequest": "telemetry_send_request",
    "TensorData": "tensor_data",
    "TensorDtype": "tensor_data",
    "TopkLogprobs": "outputs",
    "TrainingBillingEvent": "billing_usage_response",
    "TrainingRun": "records",
    "TrainingRunsResponse": "records",
    "TryAgainResponse": "records",
    "UnhandledExceptionEvent": "unhandled_exception_event",
    "UnloadModelRequest": "unload_model_request",
    "UnloadModelResponse": "unload_model_response",
    "UntypedAPIFuture": "records",
    "UserSearchOwner": "search_owner",
    "WeightsInfoResponse": "records",
    "WhoamiResponse": "whoami_response",
    "sparsify": "datum",
    "tensor_from_json": "outputs",
    "tensor_to_json": "outputs",
}

if TYPE_CHECKING:  # pragma: no cover
    from .audit_log_entry import AuditLogEntry as AuditLogEntry
    from .audit_log_response import AuditLogResponse as AuditLogResponse
    from .auth_token_response import AuthTokenResponse as AuthTokenResponse
    from .billing_usage_request import GetBillingUsageRequest as GetBillingUsageRequest
    from .billing_usage_response import BillingEventInfo as BillingEventInfo
    from .billing_usage_response import BillingUsageEvent as BillingUsageEvent
    from .billing_usage_response import BillingUsageResponse as BillingUsageResponse
    from .billing_usage_response import BillingUsageSession as BillingUsageSession
    from .billing_usage_response import CheckpointBillingEvent as CheckpointBillingEvent
    from .billing_usage_response import SamplingPrefillBillingEvent as SamplingPrefillBillingEvent
    from .billing_usage_response import SamplingSampleBillingEvent as SamplingSampleBillingEvent
    from .billing_usage_response import StorageBillingEvent as StorageBillingEvent
    from .billing_usage_response import TrainingBillingEvent as TrainingBillingEvent
    from .client_config_request import ClientConfigRequest as ClientConfigRequest
    from .client_dynamic_config_response import ClientDynamicConfigResponse as ClientDynamicConfigResponse
    from .copy_weights_request import CopyWeightsRequest as CopyWeightsRequest
    from .copy_weights_response import CopyWeightsResponse as CopyWeightsResponse
    from .create_custom_loss_request import CreateCustomLossRequest as CreateCustomLossRequest
    from .create_custom_loss_response import CreateCustomLossResponse as CreateCustomLossResponse
    from .create_model_request import CreateModelRequest as CreateModelRequest
    from .create_sampling_session_request import CreateSamplingSessionRequest as CreateSamplingSessionRequest
    from .create_session_request import CreateSessionRequest as CreateSessionRequest
    from .current_checkpoint_storage_usage_request import (
        GetCurrentCheckpointStorageUsageRequest as GetCurrentCheckpointStorageUsageRequest,
    )
    from .current_checkpoint_storage_usage_response import (
        CurrentCheckpointStorageUsageItem as CurrentCheckpointStorageUsageItem,
    )
    from .current_checkpoint_storage_usage_response import (
        CurrentCheckpointStorageUsageResponse as CurrentCheckpointStorageUsageResponse,
    )
    from .custom_loss_graph import CustomLossGraph as CustomLossGraph
    from .custom_loss_graph import CustomLossNode as CustomLossNode
    from .custom_loss_input import CustomLossInput as CustomLossInput
    from .custom_loss_input import CustomLossInputRank as CustomLossInputRank
    from .datum import KEY_TO_DTYPE as KEY_TO_DTYPE
    from .datum import Datum as Datum
    from .datum import LossFnInputs as LossFnInputs
    from .datum import LossFnOutput as LossFnOutput
    from .datum import sparsify as sparsify
    from .event_type import EventType as EventType
    from .external_weights_urls_response import ExternalWeightsUrlsResponse as ExternalWeightsUrlsResponse
    from .forward_backward_input import ForwardBackwardInput as ForwardBackwardInput
    from .forward_backward_request import ForwardBackwardRequest as ForwardBackwardRequest
    from .forward_request import ForwardRequest as ForwardRequest
    from .future_completion import FutureCompletion as FutureCompletion
    from .future_completion import FutureFailed as FutureFailed
    from .future_completion import FutureFinished as FutureFinished
    from .future_retrieve_request import FutureRetrieveRequest as FutureRetrieveRequest
    from .future_retrieve_response import FutureRetrieveResponse as FutureRetrieveResponse
    from .futures_retrieve_request import FuturesRetrieveRequest as FuturesRetrieveRequest
    from .futures_retrieve_request import SamplingSessionFuturesTarget as SamplingSessionFuturesTarget
    from .futures_retrieve_response import FuturesRetrieveResponse as FuturesRetrieveResponse
    from .get_info_request import GetInfoRequest as GetInfoRequest
    from .join_sampling_session_request import JoinSamplingSessionRequest as JoinSamplingSessionRequest
    from .join_sampling_session_response import JoinSamplingSessionResponse as JoinSamplingSessionResponse
    from .load_weights_request import LoadWeightsRequest as LoadWeightsRequest
    from .model_id import ModelID as ModelID
    from .model_input import DmelChunk as DmelChunk
    from .model_input import EncodedTextChunk as EncodedTextChunk
    from .model_input import ImageAssetPointerChunk as ImageAssetPointerChunk
    from .model_input import ImageChunk as ImageChunk
    from .model_input import ModelInput as ModelInput
    from .model_input import ModelInputChunk as ModelInputChunk
    from .optim_step_request import OptimStepRequest as OptimStepRequest
    from .optimizer import AdamOptimizerConfig as AdamOptimizerConfig
    from .optimizer import AdamParams as AdamParams
    from .optimizer import DimuonOptimizerConfig as DimuonOptimizerConfig
    from .optimizer import DimuonParams as DimuonParams
    from .optimizer import OptimizerConfig as OptimizerConfig
    from .optimizer import OptimParams as OptimParams
    from .outputs import ForwardBackwardOutput as ForwardBackwardOutput
    from .outputs import PromptAltTokens as PromptAltTokens
    from .outputs import SampledSequence as SampledSequence
    from .outputs import SampleResponse as SampleResponse
    from .outputs import TopkLogprobs as TopkLogprobs
    from .outputs import tensor_from_json as tensor_from_json
    from .outputs import tensor_to_json as tensor_to_json
    from .params import LOSS_FN_TYPES as LOSS_FN_TYPES
    from .params import LoraConfig as LoraConfig
    from .params import LossFnType as LossFnType
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
    from .request_id import RequestID as RequestID
    from .sample_request import SampleRequest as SampleRequest
    from .sampling_client_kind import SamplingClientKind as SamplingClientKind
    from .save_weights_external_request import SaveWeightsExternalRequest as SaveWeightsExternalRequest
    from .save_weights_external_response import SaveWeightsExternalResponse as SaveWeightsExternalResponse
    from .save_weights_external_response import (
        SaveWeightsExternalResponseInternal as SaveWeightsExternalResponseInternal,
    )
    from .save_weights_for_sampler_request import SaveWeightsForSamplerRequest as SaveWeightsForSamplerRequest
    from .save_weights_for_sampler_response import (
        SaveWeightsForSamplerResponseInternal as SaveWeightsForSamplerResponseInternal,
    )
    from .save_weights_request import SaveWeightsRequest as SaveWeightsRequest
    from .search_owner import AccessibleSearchOwner as AccessibleSearchOwner
    from .search_owner import OwnSearchOwner as OwnSearchOwner
    from .search_owner import SearchOwner as SearchOwner
    from .search_owner import UserSearchOwner as UserSearchOwner
    from .session_end_event import SessionEndEvent as SessionEndEvent
    from .session_heartbeat_request import SessionHeartbeatRequest as SessionHeartbeatRequest
    from .session_heartbeat_response import SessionHeartbeatResponse as SessionHeartbeatResponse
    from .session_search_cursor import SessionSearchCursor as SessionSearchCursor
    from .session_search_request import SessionSearchRequest as SessionSearchRequest
    from .session_search_response import SessionSearchResponse as SessionSearchResponse
    from .session_start_event import SessionStartEvent as SessionStartEvent
    from .session_status import ClientSessionFinished as ClientSessionFinished
    from .session_status import ClientSessionFinishErrored as ClientSessionFinishErrored
    from .session_status import ClientSessionFinishInterrupted as ClientSessionFinishInterrupted
    from .session_status import ClientSessionFinishReason as ClientSessionFinishReason
    from .session_status import ClientSessionFinishSuccess as ClientSessionFinishSuccess
    from .session_status import SessionActive as SessionActive
    from .session_status import SessionCancelled as SessionCancelled
    from .session_status import SessionFailed as SessionFailed
    from .session_status import SessionFailedReason as SessionFailedReason
    from .session_status import SessionFailedRequestReason as SessionFailedRequestReason
    from .session_status import SessionFailedSamplingSessionReason as SessionFailedSamplingSessionReason
    from .session_status import SessionFailedTrainingRunReason as SessionFailedTrainingRunReason
    from .session_status import SessionStatus as SessionStatus
    from .session_status_query import ActiveSessionStatusQuery as ActiveSessionStatusQuery
    from .session_status_query import CancelledSessionStatusQuery as CancelledSessionStatusQuery
    from .session_status_query import ClientFinishedSessionStatusQuery as ClientFinishedSessionStatusQuery
    from .session_status_query import ClientSessionFinishReasonType as ClientSessionFinishReasonType
    from .session_status_query import FailedSessionStatusQuery as FailedSessionStatusQuery
    from .session_status_query import SessionStatusQuery as SessionStatusQuery
    from .session_summary import SessionSummary as SessionSummary
    from .severity import Severity as Severity
    from .telemetry_batch import TelemetryBatch as TelemetryBatch
    from .telemetry_event import TelemetryEvent as TelemetryEvent
    from .telemetry_response import TelemetryResponse as TelemetryResponse
    from .telemetry_send_request import TelemetrySendRequest as TelemetrySendRequest
    from .tensor_data import TensorData as TensorData
    from .tensor_data import TensorDtype as TensorDtype
    from .unhandled_exception_event import UnhandledExceptionEvent as UnhandledExceptionEvent
    from .unload_model_request import UnloadModelRequest as UnloadModelRequest
    from .unload_model_response import UnloadModelResponse as UnloadModelResponse
    from .whoami_response import WhoamiResponse as WhoamiResponse


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")  # ``tinkerlite.types.datum`` as an attribute
    else:
        raise AttributeError(f"module 'tinkerlite.types' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    "KEY_TO_DTYPE",
    "LOSS_FN_TYPES",
    "AccessibleSearchOwner",
    "ActiveSessionStatusQuery",
    "AdamOptimizerConfig",
    "AdamParams",
    "AuditLogEntry",
    "AuditLogResponse",
    "AuthTokenResponse",
    "BillingEventInfo",
    "BillingUsageEvent",
    "BillingUsageResponse",
    "BillingUsageSession",
    "CancelledSessionStatusQuery",
    "Checkpoint",
    "CheckpointBillingEvent",
    "CheckpointType",
    "CheckpointsListResponse",
    "ClientConfigRequest",
    "ClientConfigResponse",
    "ClientDynamicConfigResponse",
    "ClientFinishedSessionStatusQuery",
    "ClientSessionFinishErrored",
    "ClientSessionFinishInterrupted",
    "ClientSessionFinishReason",
    "ClientSessionFinishReasonType",
    "ClientSessionFinishSuccess",
    "ClientSessionFinished",
    "CopyWeightsRequest",
    "CopyWeightsResponse",
    "CreateCustomLossRequest",
    "CreateCustomLossResponse",
    "CreateModelRequest",
    "CreateModelResponse",
    "CreateSamplingSessionRequest",
    "CreateSamplingSessionResponse",
    "CreateSessionRequest",
    "CreateSessionResponse",
    "CurrentCheckpointStorageUsageItem",
    "CurrentCheckpointStorageUsageResponse",
    "Cursor",
    "CustomLossGraph",
    "CustomLossInput",
    "CustomLossInputRank",
    "CustomLossNode",
    "Datum",
    "DimuonOptimizerConfig",
    "DimuonParams",
    "DmelChunk",
    "EncodedTextChunk",
    "EventType",
    "ExternalWeightsUrlsResponse",
    "FailedSessionStatusQuery",
    "ForwardBackwardInput",
    "ForwardBackwardOutput",
    "ForwardBackwardRequest",
    "ForwardRequest",
    "FutureCompletion",
    "FutureFailed",
    "FutureFinished",
    "FutureRetrieveRequest",
    "FutureRetrieveResponse",
    "FuturesRetrieveRequest",
    "FuturesRetrieveResponse",
    "GetBillingUsageRequest",
    "GetCurrentCheckpointStorageUsageRequest",
    "GetInfoRequest",
    "GetInfoResponse",
    "GetSamplerResponse",
    "GetServerCapabilitiesResponse",
    "GetSessionResponse",
    "HealthResponse",
    "ImageAssetPointerChunk",
    "ImageChunk",
    "JoinSamplingSessionRequest",
    "JoinSamplingSessionResponse",
    "ListSessionsResponse",
    "LoadWeightsRequest",
    "LoadWeightsResponse",
    "LoraConfig",
    "LossFnInputs",
    "LossFnOutput",
    "LossFnType",
    "ModelData",
    "ModelID",
    "ModelInput",
    "ModelInputChunk",
    "OptimParams",
    "OptimStepRequest",
    "OptimStepResponse",
    "OptimizerConfig",
    "OwnSearchOwner",
    "ParsedCheckpointTinkerPath",
    "PromptAltTokens",
    "PromptProvenanceSpan",
    "ProvenanceSpans",
    "RequestErrorCategory",
    "RequestFailedResponse",
    "RequestID",
    "SampleRequest",
    "SampleResponse",
    "SampledProvenanceSpan",
    "SampledSequence",
    "SamplingClientKind",
    "SamplingParams",
    "SamplingPrefillBillingEvent",
    "SamplingSampleBillingEvent",
    "SamplingSessionFuturesTarget",
    "SaveWeightsExternalRequest",
    "SaveWeightsExternalResponse",
    "SaveWeightsExternalResponseInternal",
    "SaveWeightsForSamplerRequest",
    "SaveWeightsForSamplerResponse",
    "SaveWeightsForSamplerResponseInternal",
    "SaveWeightsRequest",
    "SaveWeightsResponse",
    "SearchOwner",
    "SessionActive",
    "SessionCancelled",
    "SessionEndEvent",
    "SessionFailed",
    "SessionFailedReason",
    "SessionFailedRequestReason",
    "SessionFailedSamplingSessionReason",
    "SessionFailedTrainingRunReason",
    "SessionHeartbeatRequest",
    "SessionHeartbeatResponse",
    "SessionSearchCursor",
    "SessionSearchRequest",
    "SessionSearchResponse",
    "SessionStartEvent",
    "SessionStatus",
    "SessionStatusQuery",
    "SessionSummary",
    "Severity",
    "StopReason",
    "StorageBillingEvent",
    "SupportedModel",
    "TelemetryBatch",
    "TelemetryEvent",
    "TelemetryResponse",
    "TelemetrySendRequest",
    "TensorData",
    "TensorDtype",
    "TopkLogprobs",
    "TrainingBillingEvent",
    "TrainingRun",
    "TrainingRunsResponse",
    "TryAgainResponse",
    "UnhandledExceptionEvent",
    "UnloadModelRequest",
    "UnloadModelResponse",
    "UntypedAPIFuture",
    "UserSearchOwner",
    "WeightsInfoResponse",
    "WhoamiResponse",
    "sparsify",
    "tensor_from_json",
    "tensor_to_json",
]
