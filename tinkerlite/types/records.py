"""JSON request/response records of the HTTP API (§2 of the protocol document)."""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any, Literal, TypeAlias

from ..errors import ValidationError
from . import _console
from ._lazy import dataclass
from ._record import JsonRecord
from .optimizer import AdamOptimizerConfig, OptimizerConfig

__all__ = [
    "Checkpoint",
    "CheckpointType",
    "CheckpointsListResponse",
    "ClientConfigResponse",
    "CreateModelResponse",
    "CreateSamplingSessionResponse",
    "CreateSessionResponse",
    "Cursor",
    "GetInfoResponse",
    "GetSamplerResponse",
    "GetServerCapabilitiesResponse",
    "GetSessionResponse",
    "HealthResponse",
    "ListSessionsResponse",
    "LoadWeightsResponse",
    "ModelData",
    "OptimStepResponse",
    "ParsedCheckpointTinkerPath",
    "RequestErrorCategory",
    "RequestFailedResponse",
    "SaveWeightsForSamplerResponse",
    "SaveWeightsResponse",
    "SupportedModel",
    "TrainingRun",
    "TrainingRunsResponse",
    "TryAgainResponse",
    "UntypedAPIFuture",
    "WeightsInfoResponse",
]

CheckpointType: TypeAlias = Literal["training", "sampler", "external"]


class RequestErrorCategory(str, enum.Enum):
    """Who is to blame for a failed request; a ``str`` enum, so it compares equal to the wire value."""

    Unknown = "unknown"
    Server = "server"
    User = "user"


_KIND_TO_TYPE: dict[str, CheckpointType] = {
    "weights": "training",
    "sampler_weights": "sampler",
    "external_weights": "external",
}


@dataclass(frozen=True)
class ParsedCheckpointTinkerPath:
    """``tinker://<training_run_id>/<weights|sampler_weights|external_weights>/<name>``."""

    tinker_path: str
    training_run_id: str
    checkpoint_type: CheckpointType
    checkpoint_id: str  # "<kind>/<name>", as REST routes want it

    @classmethod
    def from_tinker_path(cls, tinker_path: str) -> ParsedCheckpointTinkerPath:
        prefix = "tinker://"
        if not isinstance(tinker_path, str) or not tinker_path.startswith(prefix):
            raise ValidationError(f"not a tinker:// path: {tinker_path!r}", field="tinker_path")
        parts = tinker_path[len(prefix) :].split("/")
        if len(parts) != 3 or not all(parts):
            raise ValidationError(
                f"expected tinker://<run>/<weights|sampler_weights|external_weights>/<name>, got {tinker_path!r}",
                field="tinker_path",
            )
        run, kind, name = parts
        if kind not in _KIND_TO_TYPE:
            raise ValidationError(f"unknown checkpoint kind {kind!r} in {tinker_path!r}", field="tinker_path")
        return cls(tinker_path, run, _KIND_TO_TYPE[kind], f"{kind}/{name}")


@dataclass(frozen=True)
class Cursor(JsonRecord):
    offset: int
    limit: int
    total_count: int


@dataclass(frozen=True)
class Checkpoint(JsonRecord):
    checkpoint_id: str
    checkpoint_type: str
    time: datetime
    tinker_path: str
    size_bytes: int | None = None
    public: bool = False
    user_metadata: dict[str, str] | None = None
    expires_at: datetime | None = None
    _datetimes = ("time", "expires_at")


@dataclass(frozen=True)
class TrainingRun(JsonRecord):
    training_run_id: str
    base_model: str
    model_owner: str
    is_lora: bool
    last_request_time: datetime
    corrupted: bool = False
    lora_rank: int | None = None
    last_checkpoint: Checkpoint | None = None
    last_sampler_checkpoint: Checkpoint | None = None
    user_metadata: dict[str, str] | None = None
    _datetimes = ("last_request_time",)
    _nested = {"last_checkpoint": Checkpoint, "last_sampler_checkpoint": Checkpoint}  # noqa: RUF012


@dataclass(frozen=True)
class TrainingRunsResponse(JsonRecord):
    training_runs: list[TrainingRun]
    cursor: Cursor
    _nested_list = {"training_runs": TrainingRun}  # noqa: RUF012
    _nested = {"cursor": Cursor}  # noqa: RUF012


@dataclass(frozen=True)
class CheckpointsListResponse(JsonRecord):
    checkpoints: list[Checkpoint]
    cursor: Cursor | None = None
    _nested_list = {"checkpoints": Checkpoint}  # noqa: RUF012
    _nested = {"cursor": Cursor}  # noqa: RUF012


@dataclass(frozen=True)
class UntypedAPIFuture(JsonRecord):
    request_id: str
    model_id: str | None = None
    sample_sequence_ids: list[str] | None = None


@dataclass(frozen=True)
class TryAgainResponse(JsonRecord):
    request_id: str
    queue_state: str
    type: str = "try_again"
    queue_state_reason: str | None = None


@dataclass(frozen=True)
class RequestFailedResponse(JsonRecord):
    error: str
    category: str

    def __post_init__(self) -> None:
        if self.category not in ("unknown", "server", "user"):
            object.__setattr__(self, "category", "unknown")


@dataclass(frozen=True)
class ClientConfigResponse(JsonRecord):
    pjwt_auth_enabled: bool = False
    credential_default_source: str = "api_key"
    sample_dispatch_bytes_semaphore_size: int = 10 * 1024 * 1024
    inflight_response_bytes_semaphore_size: int = 50 * 1024 * 1024
    parallel_fwdbwd_chunks: bool = True
    proto_compress_fwdbwd: bool = False
    fwdbwd_max_chunk_len: int = 1024
    fwdbwd_max_chunk_bytes_count: int = 5_000_000
    fwdbwd_dispatch_bytes_semaphore_size: int = 50_000_000
    billing_exception_max_pause_duration_sec: float = 3600
    sample_no_retries: bool = False
    sample_enable_stuck_detection: bool = True
    sample_max_concurrent_requests: int = 2000
    use_pyqwest_transport: bool = True
    sample_use_retrieve_futures: bool = False
    custom_loss_server_side: bool = False
    sample_join_sampling_session: bool = False

    @classmethod
    def from_json(cls, obj: Any) -> ClientConfigResponse:
        """Lenient: null or unknown keys keep the default; numbers are coerced to the field's type."""
        if not isinstance(obj, dict):
            return cls()
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            value = obj.get(f.name)
            if value is None:
                continue
            default = f.default
            if isinstance(default, bool):
                kwargs[f.name] = bool(value)
            elif isinstance(default, (int, float)) and isinstance(value, (int, float)):
                kwargs[f.name] = type(default)(value)
            elif isinstance(default, str) and isinstance(value, str):
                kwargs[f.name] = value
        return cls(**kwargs)


@dataclass(frozen=True)
class CreateSessionResponse(JsonRecord):
    session_id: str
    type: str | None = "create_session"
    info_message: str | None = None
    warning_message: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class CreateModelResponse(JsonRecord):
    model_id: str
    type: str | None = "create_model"


@dataclass(frozen=True)
class ModelData(JsonRecord):
    arch: str | None = None
    model_name: str | None = None
    tokenizer_id: str | None = None


@dataclass(frozen=True)
class GetInfoResponse(JsonRecord):
    model_data: ModelData
    model_id: str
    type: str | None = None
    is_lora: bool | None = None
    lora_rank: int | None = None
    model_name: str | None = None
    #: The SDK's default (Adam) when a server's answer omits it.
    optimizer_config: OptimizerConfig = dataclasses.field(default_factory=AdamOptimizerConfig)
    _nested = {"model_data": ModelData, "optimizer_config": OptimizerConfig}  # noqa: RUF012


@dataclass(frozen=True)
class OptimStepResponse(JsonRecord):
    metrics: dict[str, float] | None = None


@dataclass(frozen=True)
class SaveWeightsResponse(JsonRecord):
    path: str
    type: str | None = None

    def get_console_url(self) -> str:
        """The Tinker console page of this checkpoint."""
        return _console.checkpoint_url_from_path(self.path)


@dataclass(frozen=True)
class SaveWeightsForSamplerResponse(JsonRecord):
    path: str | None = None
    sampling_session_id: str | None = None
    type: str | None = None

    def get_console_url(self) -> str:
        """The Tinker console page of this sampler checkpoint."""
        return _console.checkpoint_url_from_path(self._saved_path())

    def get_playground_url(self) -> str:
        """The Tinker playground, opened on this sampler checkpoint."""
        return _console.playground_url(self._saved_path())

    def _saved_path(self) -> str:
        if self.path is None:
            raise ValueError("this save made an ephemeral sampler (no path): there is no console page for it")
        return self.path


@dataclass(frozen=True)
class LoadWeightsResponse(JsonRecord):
    path: str | None = None
    model_id: str | None = None
    type: str | None = None


@dataclass(frozen=True)
class WeightsInfoResponse(JsonRecord):
    base_model: str
    is_lora: bool
    lora_rank: int | None = None
    train_unembed: bool | None = None
    train_mlp: bool | None = None
    train_attn: bool | None = None
    #: The SDK's default (Adam) when a server's answer omits it.
    optimizer_config: OptimizerConfig = dataclasses.field(default_factory=AdamOptimizerConfig)
    _nested = {"optimizer_config": OptimizerConfig}  # noqa: RUF012


@dataclass(frozen=True)
class CreateSamplingSessionResponse(JsonRecord):
    sampling_session_id: str
    type: str | None = "create_sampling_session"


@dataclass(frozen=True)
class GetSamplerResponse(JsonRecord):
    sampler_id: str
    base_model: str
    model_path: str | None = None


@dataclass(frozen=True)
class SupportedModel(JsonRecord):
    model_name: str | None = None
    max_context_length: int | None = None
    trainable: bool | None = None
    sampleable: bool | None = None


@dataclass(frozen=True)
class GetServerCapabilitiesResponse(JsonRecord):
    supported_models: list[SupportedModel]
    _nested_list = {"supported_models": SupportedModel}  # noqa: RUF012


@dataclass(frozen=True)
class HealthResponse(JsonRecord):
    status: str


@dataclass(frozen=True)
class ListSessionsResponse(JsonRecord):
    sessions: list[str]


@dataclass(frozen=True)
class GetSessionResponse(JsonRecord):
    training_run_ids: list[str]
    sampler_ids: list[str]
    user_metadata: dict[str, str] | None = None
    display_name: str | None = None
