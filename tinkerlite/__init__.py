"""tinkerlite: a pure-Python, zero-dependency client and cookbook for the Tinker fine-tuning API.

``import tinkerlite as tinker`` ports most code written for the official SDK. The SDK-level names
(``ServiceClient``, ``types``, the exception classes) resolve lazily, so importing the package stays
cheap and never touches an optional dependency.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import MissingExtraError, ProtocolError, TinkerliteError, ValidationError

# name -> module that defines it; imported on first attribute access (PEP 562).
_LAZY: dict[str, str] = {
    "ServiceClient": "tinkerlite.client.service_client",
    "TrainingClient": "tinkerlite.client.training_client",
    "SamplingClient": "tinkerlite.client.sampling_client",
    "RestClient": "tinkerlite.client.rest_client",
    "APIFuture": "tinkerlite.client.api_future",
    "RetryConfig": "tinkerlite.client",
}
_LAZY_EXCEPTIONS = (
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
)
for _name in _LAZY_EXCEPTIONS:
    _LAZY[_name] = "tinkerlite._exceptions"
for _name in (
    "AdamParams",
    "Datum",
    "EncodedTextChunk",
    "ForwardBackwardOutput",
    "ImageAssetPointerChunk",
    "ImageChunk",
    "LoraConfig",
    "LossFnType",
    "ModelInput",
    "SampleResponse",
    "SampledSequence",
    "SamplingParams",
    "TensorData",
):
    _LAZY[_name] = "tinkerlite.types"

if TYPE_CHECKING:  # pragma: no cover
    from . import types as types
    from ._exceptions import *  # noqa: F403
    from .client.api_future import APIFuture as APIFuture  # type: ignore[import-not-found,unused-ignore]
    from .client.rest_client import RestClient as RestClient  # type: ignore[import-not-found,unused-ignore]
    from .client.sampling_client import SamplingClient as SamplingClient  # type: ignore[import-not-found,unused-ignore]
    from .client.service_client import ServiceClient as ServiceClient  # type: ignore[import-not-found,unused-ignore]
    from .client.training_client import TrainingClient as TrainingClient  # type: ignore[import-not-found,unused-ignore]
    from .types import (
        AdamParams as AdamParams,
    )
    from .types import (
        Datum as Datum,
    )
    from .types import (
        EncodedTextChunk as EncodedTextChunk,
    )
    from .types import (
        ForwardBackwardOutput as ForwardBackwardOutput,
    )
    from .types import (
        ImageAssetPointerChunk as ImageAssetPointerChunk,
    )
    from .types import (
        ImageChunk as ImageChunk,
    )
    from .types import (
        LoraConfig as LoraConfig,
    )
    from .types import (
        LossFnType as LossFnType,
    )
    from .types import (
        ModelInput as ModelInput,
    )
    from .types import (
        SampledSequence as SampledSequence,
    )
    from .types import (
        SampleResponse as SampleResponse,
    )
    from .types import (
        SamplingParams as SamplingParams,
    )
    from .types import (
        TensorData as TensorData,
    )


def __getattr__(name: str) -> Any:
    if name == "types":
        return importlib.import_module("tinkerlite.types")
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
