"""tinkerlite: a pure-Python, zero-dependency client and cookbook for the Tinker fine-tuning API.

``import tinkerlite as tinker`` ports code written for the official SDK: every name of ``tinker.__all__``
(SDK 0.38) is here. They resolve lazily (PEP 562) from the one table below, so importing the package
stays cheap and never touches an optional dependency.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import MissingExtraError, ProtocolError, TinkerliteError, ValidationError

# The cookbook's top-level names (``tinker_cookbook.__all__``) are its exception hierarchy, listed once in
# tinkerlite.exceptions (stdlib-only and small, so reading its name list here keeps the import cheap).
from .exceptions import __all__ as _COOKBOOK_EXCEPTIONS

__title__ = "tinkerlite"

_CLIENT = {
    "ServiceClient": "tinkerlite.client.service_client",
    "TrainingClient": "tinkerlite.client.training_client",
    "SamplingClient": "tinkerlite.client.sampling_client",
    "RestClient": "tinkerlite.client.rest_client",
    "AdminClient": "tinkerlite.client.admin_client",
    "APIFuture": "tinkerlite.client.api_future",
    "BackcompatTrainingClientFuture": "tinkerlite.client.backcompat",
    "BackcompatSamplingClientFuture": "tinkerlite.client.backcompat",
    "LossHandle": "tinkerlite.client.custom_loss",
    "PerDatumLossFn": "tinkerlite.client.custom_loss",
    "RetryConfig": "tinkerlite.client",
    "Timeout": "tinkerlite.client.options",
    "RequestOptions": "tinkerlite.client.options",
}
_EXCEPTIONS = (
    "TinkerError",
    "APIError",
    "APIStatusError",
    "APIConnectionError",
    "APITimeoutError",
    "APIResponseValidationError",
    "BadRequestError",
    "AuthenticationError",
    "BillingError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "RequestFailedError",
    "ExperimentalWarning",
)
_TYPES = (
    "AdamOptimizerConfig",
    "AdamParams",
    "Checkpoint",
    "CheckpointType",
    "Datum",
    "DimuonOptimizerConfig",
    "DimuonParams",
    "DmelChunk",
    "EncodedTextChunk",
    "ForwardBackwardOutput",
    "ImageAssetPointerChunk",
    "ImageChunk",
    "LoraConfig",
    "LossFnType",
    "ModelID",
    "ModelInput",
    "ModelInputChunk",
    "OptimParams",
    "OptimStepRequest",
    "OptimStepResponse",
    "ParsedCheckpointTinkerPath",
    "PromptProvenanceSpan",
    "SampleRequest",
    "SampleResponse",
    "SampledProvenanceSpan",
    "SampledSequence",
    "SamplingParams",
    "StopReason",
    "TensorData",
    "TensorDtype",
    "TrainingRun",
)
# name -> module that defines it; imported on first attribute access.
_LAZY: dict[str, str] = {
    **_CLIENT,
    **dict.fromkeys(_EXCEPTIONS, "tinkerlite._exceptions"),
    **dict.fromkeys(_COOKBOOK_EXCEPTIONS, "tinkerlite.exceptions"),
    **dict.fromkeys(_TYPES, "tinkerlite.types"),
}
_SUBMODULES = ("types", "auth")

if TYPE_CHECKING:  # pragma: no cover
    from . import auth as auth
    from . import types as types
    from ._exceptions import *  # noqa: F403
    from ._exceptions import ExperimentalWarning as ExperimentalWarning
    from .client import RetryConfig as RetryConfig
    from .client.admin_client import AdminClient as AdminClient
    from .client.api_future import APIFuture as APIFuture
    from .client.backcompat import BackcompatSamplingClientFuture as BackcompatSamplingClientFuture
    from .client.backcompat import BackcompatTrainingClientFuture as BackcompatTrainingClientFuture
    from .client.custom_loss import LossHandle as LossHandle
    from .client.custom_loss import PerDatumLossFn as PerDatumLossFn
    from .client.options import RequestOptions as RequestOptions
    from .client.options import Timeout as Timeout
    from .client.rest_client import RestClient as RestClient
    from .client.sampling_client import SamplingClient as SamplingClient
    from .client.service_client import ServiceClient as ServiceClient
    from .client.training_client import TrainingClient as TrainingClient
    from .exceptions import *  # noqa: F403
    from .types import AdamOptimizerConfig as AdamOptimizerConfig
    from .types import AdamParams as AdamParams
    from .types import Checkpoint as Checkpoint
    from .types import CheckpointType as CheckpointType
    from .types import Datum as Datum
    from .types import DimuonOptimizerConfig as DimuonOptimizerConfig
    from .types import DimuonParams as DimuonParams
    from .types import DmelChunk as DmelChunk
    from .types import EncodedTextChunk as EncodedTextChunk
    from .types import ForwardBackwardOutput as ForwardBackwardOutput
    from .types import ImageAssetPointerChunk as ImageAssetPointerChunk
    from .types import ImageChunk as ImageChunk
    from .types import LoraConfig as LoraConfig
    from .types import LossFnType as LossFnType
    from .types import ModelID as ModelID
    from .types import ModelInput as ModelInput
    from .types import ModelInputChunk as ModelInputChunk
    from .types import OptimParams as OptimParams
    from .types import OptimStepRequest as OptimStepRequest
    from .types import OptimStepResponse as OptimStepResponse
    from .types import ParsedCheckpointTinkerPath as ParsedCheckpointTinkerPath
    from .types import PromptProvenanceSpan as PromptProvenanceSpan
    from .types import SampledProvenanceSpan as SampledProvenanceSpan
    from .types import SampledSequence as SampledSequence
    from .types import SampleRequest as SampleRequest
    from .types import SampleResponse as SampleResponse
    from .types import SamplingParams as SamplingParams
    from .types import StopReason as StopReason
    from .types import TensorData as TensorData
    from .types import TensorDtype as TensorDtype
    from .types import TrainingRun as TrainingRun


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"tinkerlite.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tinkerlite' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


__all__ = [
    "MissingExtraError",
    "ProtocolError",
    "TinkerliteError",
    "ValidationError",
    "__title__",
    "__version__",
    "auth",
    "types",
    *_LAZY,
]
