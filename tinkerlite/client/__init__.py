"""The Tinker client half: ServiceClient, TrainingClient, SamplingClient, RestClient, APIFuture."""

from .api_future import APIFuture
from .rest_client import RestClient
from .sampling_client import RetryConfig, SamplingClient
from .service_client import ServiceClient
from .training_client import TrainingClient

__all__ = ["APIFuture", "RestClient", "RetryConfig", "SamplingClient", "ServiceClient", "TrainingClient"]
