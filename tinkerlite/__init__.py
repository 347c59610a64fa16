"""tinkerlite: a pure-Python, zero-dependency client and cookbook for the Tinker fine-tuning API.

``import tinkerlite as tinker`` ports most code written for the official SDK. The SDK-level names
(``ServiceClient``, ``types``, the exception classes) resolve lazily, so importing the package stays
cheap and never touches an optional dependency.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import types
from ._version import __version__
from .errors import MissingExtraError, ProtocolError, TinkerliteError, ValidationError
from .types import (
    AdamParams,
    Datum,
    EncodedTextChunk,
    ForwardBackwardOutput,
    ImageAssetPointerChunk,
    ImageChunk,
    LoraConfig,
    LossFnType,
    ModelInput,
    SampledSequence,
    SampleResponse,
    SamplingParams,
    TensorData,
)

# name -> module that defines it; imported on first attribute access (PEP 562).
_LAZY: dict[str, str] = {
    "ServiceClient": "tinkerlite.client.service_client",
    "TrainingClient": "tinkerlite.client.training_client",
    "SamplingClient": "tinkerlite.client.sampling_client",
    "RestClient": "tinkerlite.client.rest_client",
    "APIFuture": "tinkerlite.client.api_future",
}
_LAZY_EXCEPTIONS = (
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
)
for _name in _LAZY_EXCEPTIONS:
    _LAZY[_name] = "tinkerlite._exceptions"

if TYPE_CHECKING:  # pragma: no cover
    from ._exceptions import *  # noqa: F403
    from .client.api_future import APIFuture as APIFuture  # type: ignore[import-not-found,unused-ignore]
    from .client.rest_client import RestClient as RestClient  # type: ignore[import-not-found,unused-ignore]
    from .client.sampling_client import SamplingClient as SamplingClient  # type: ignore[import-not-found,unused-ignore]
    from .client.service_client import ServiceClient as ServiceClient  # type: ignore[import-not-found,unused-ignore]
    from .client.training_client import TrainingClient as TrainingClient  # type: ignore[import-not-found,unused-ignore]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tinkerlite' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AdamParams",
    "Datum",
    "EncodedTextChunk",
    "ForwardBackwardOutput",
    "ImageAssetPointerChunk",
    "ImageChunk",
    "LoraConfig",
    "LossFnType",
    "MissingExtraError",
    "ModelInput",
    "ProtocolError",
    "SampleResponse",
    "SampledSequence",
    "SamplingParams",
    "TensorData",
    "TinkerliteError",
    "ValidationError",
    "__version__",
    "types",
    *_LAZY,
]
