"""``ServiceClient``: the entry point; owns the session and creates training/sampling/REST clients."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal

from .._exceptions import TinkerError
from ..types import _console as console
from ..types.optimizer import OptimizerConfig, OptimizerConfigBase
from .api_future import APIFuture
from .backcompat import BackcompatSamplingClientFuture, BackcompatTrainingClientFuture
from .config import project_id_from_env
from .custom_loss import LossHandle
from .holder import Holder
from .rest_client import RestClient, rest_holder
from .sampling_client import RetryConfig, SamplingClient
from .training_client import TrainingClient
from .transport import Transport

FinishStatus = Literal["success", "errored", "interrupted"]


def _optimizer_json(optimizer: Any) -> dict[str, Any]:
    """The ``optimizer_config`` body of ``create_model`` / ``load_weights``; AdamW when not given."""
    if optimizer is None:
        return {"type": "adamw"}
    if not isinstance(optimizer, OptimizerConfigBase):
        raise TypeError(
            f"optimizer must be an OptimizerConfig (AdamOptimizerConfig() or DimuonOptimizerConfig()), "
            f"got {type(optimizer).__name__}"
        )
    return optimizer.to_json()


class ServiceClient:
    """Signature as in the official SDK, plus ``unreachable_timeout`` (the fail-fast bound, seconds).

    Construction does no I/O; the first call performs the ``client/config`` handshake and creates
    the session. Credentials are resolved now so a missing key fails here, not later.
    """

    def __init__(
        self,
        user_metadata: dict[str, str] | None = None,
        project_id: str | None = None,
        *,
        display_name: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        default_headers_overrides: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        # tinkerlite's own options travel in **kwargs so the signature stays the SDK's.
        unreachable_timeout: float | None = kwargs.pop("unreachable_timeout", None)
        transport: Transport | None = kwargs.pop("transport", None)
        holder_options = kwargs.pop("_holder_options", {})
        if kwargs:
            warnings.warn(
                f"ServiceClient ignores unsupported arguments: {', '.join(sorted(kwargs))}.",
                FutureWarning,
                stacklevel=2,
            )
        self._base_url = base_url
        self._api_key = api_key
        self._headers = dict(default_headers_overrides or {})
        self._unreachable_timeout = unreachable_timeout
        self._transport = transport
        self._holder_options = holder_options
        self._project_id = project_id_from_env(project_id)
        self._holder = Holder(
            base_url=base_url,
            api_key=api_key,
            user_metadata=user_metadata,
            project_id=self._project_id,
            display_name=display_name,
            default_headers_overrides=self._headers,
            unreachable_timeout=unreachable_timeout,
            transport=transport,
            **holder_options,
        )
        self._rest: RestClient | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def holder(self) -> Holder:
        """The session's connection holder (the SDK keeps this for callers reaching into internals)."""
        return self._holder

    def get_console_url(self) -> str:
        """The Tinker console page of this session (the sessions list before the session exists)."""
        sid = self._holder.session_id
        return console.sessions_url() if sid is None else console.session_url(sid)

    def get_telemetry(self) -> None:
        """tinkerlite collects no telemetry."""
        return None

    def __repr__(self) -> str:
        return f"ServiceClient(base_url={self.holder.base.url!r}, session_id={self.holder.session_id!r})"

    def __enter__(self) -> ServiceClient:
        if self._closed:
            raise RuntimeError("ServiceClient is closed")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        status: FinishStatus = (
            "success" if exc_type is None else "errored" if issubclass(exc_type, Exception) else "interrupted"
        )
        self.close(status).result()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("ServiceClient is closed")

    # ---- training clients --------------------------------------------------------------------------

    def create_lora_training_client(
        self,
        base_model: str,
        rank: int = 32,
        seed: int | None = None,
        train_mlp: bool = True,
        train_attn: bool = True,
        train_unembed: bool = True,
        user_metadata: dict[str, str] | None = None,
        optimizer: OptimizerConfig | None = None,
    ) -> BackcompatTrainingClientFuture:
        """Create a LoRA model (``create_model``) and return a future of its TrainingClient.

        ``optimizer`` fixes the run's optimizer family (default ``AdamOptimizerConfig()``); every
        ``optim_step`` must then carry that family's params.
        """
        self._check_open()
        if not (train_mlp or train_attn or train_unembed):
            raise ValueError("At least one of train_mlp, train_attn, or train_unembed must be True")
        from ..types import LoraConfig

        holder = self.holder
        model_seq_id = holder.model_seq_ids.reserve(1)[0]
        lora = LoraConfig(
            rank=rank, seed=seed, train_unembed=train_unembed, train_mlp=train_mlp, train_attn=train_attn
        ).to_json()
        optimizer_config = _optimizer_json(optimizer)

        async def go() -> TrainingClient:
            from ..types import CreateModelResponse
            from .results import json_record

            start = holder.wall()
            body: dict[str, Any] = {
                "session_id": holder.session_id,
                "model_seq_id": model_seq_id,
                "base_model": base_model,
            }
            if user_metadata is not None:
                body["user_metadata"] = user_metadata
            body.update({"lora_config": lora, "optimizer_config": optimizer_config, "type": "create_model"})
            fut = await holder.post_json_compat("/api/v1/create_model", body, {"optimizer_config": {"type": "adamw"}})
            done = await holder.wait_future(fut["request_id"], "CreateModel", False, holder.wall() - start)
            model_id = json_record(done, CreateModelResponse).model_id
            client = TrainingClient(holder, model_seq_id, model_id, info=None)
            await client._fetch_info()
            return client

        return BackcompatTrainingClientFuture(holder.run(go(), "ServiceClient.create_lora_training_client"))

    async def create_lora_training_client_async(
        self,
        base_model: str,
        rank: int = 32,
        seed: int | None = None,
        train_mlp: bool = True,
        train_attn: bool = True,
        train_unembed: bool = True,
        user_metadata: dict[str, str] | None = None,
        optimizer: OptimizerConfig | None = None,
    ) -> TrainingClient:
        return await self.create_lora_training_client(
            base_model, rank, seed, train_mlp, train_attn, train_unembed, user_metadata, optimizer
        )

    def _from_state(
        self,
        path: str,
        optimizer: bool,
        base_model: str | None,
        user_metadata: dict[str, str] | None,
        weights_access_token: str | None,
        optimizer_config: Any,
        method: str,
    ) -> BackcompatTrainingClientFuture:
        self._check_open()
        holder = self.holder
        opt_json = None if optimizer_config is None else _optimizer_json(optimizer_config)
        model_seq_id = holder.model_seq_ids.reserve(1)[0]

        async def go() -> TrainingClient:
            start = holder.wall()
            model_id = f"{holder.session_id}:train:{model_seq_id}"
            body: dict[str, Any] = {"session_id": holder.session_id, "model_seq_id": model_seq_id}
            if base_model is not None:
                body["base_model"] = base_model
            if user_metadata is not None:
                body["user_metadata"] = user_metadata
            body["path"] = path
            body["optimizer"] = optimizer
            if opt_json is not None:
                body["optimizer_config"] = opt_json
            if weights_access_token is not None:
                body["weights_access_token"] = weights_access_token
            body["type"] = "load_weights"
            fut = await holder.execute_with_retries(
                lambda: holder.post_json_compat("/api/v1/load_weights", body, {"optimizer_config": {"type": "adamw"}})
            )
            await holder.wait_future(fut["request_id"], "LoadWeights", False, holder.wall() - start)
            client = TrainingClient(holder, model_seq_id, model_id, info=None)
            await client._fetch_info()
            return client

        return BackcompatTrainingClientFuture(holder.run(go(), method))

    def create_training_client_from_state(
        self,
        path: str,
        base_model: str | None = None,
        user_metadata: dict[str, str] | None = None,
        weights_access_token: str | None = None,
        optimizer: OptimizerConfig | None = None,
    ) -> BackcompatTrainingClientFuture:
        """A new training run with the weights (not the optimizer state) saved at ``path``."""
        return self._from_state(
            path,
            False,
            base_model,
            user_metadata,
            weights_access_token,
            optimizer,
            "ServiceClient.create_training_client_from_state",
        )

    async def create_training_client_from_state_async(
        self,
        path: str,
        base_model: str | None = None,
        user_metadata: dict[str, str] | None = None,
        weights_access_token: str | None = None,
        optimizer: OptimizerConfig | None = None,
    ) -> TrainingClient:
        return await self.create_training_client_from_state(
            path, base_model, user_metadata, weights_access_token, optimizer
        )

    def create_training_client_from_state_with_optimizer(
        self,
        path: str,
        base_model: str | None = None,
        user_metadata: dict[str, str] | None = None,
        weights_access_token: str | None = None,
    ) -> BackcompatTrainingClientFuture:
        """Like :meth:`create_training_client_from_state`, restoring the optimizer state too."""
        return self._from_state(
            path,
            True,
            base_model,
            user_metadata,
            weights_access_token,
            None,
            "ServiceClient.create_training_client_from_state_with_optimizer",
        )

    async def create_training_client_from_state_with_optimizer_async(
        self,
        path: str,
        base_model: str | None = None,
        user_metadata: dict[str, str] | None = None,
        weights_access_token: str | None = None,
    ) -> TrainingClient:
        return await self.create_training_client_from_state_with_optimizer(
            path, base_model, user_metadata, weights_access_token
        )

    def copy_weights(
        self, path: str, *, ttl_seconds: int | None = None, weights_access_token: str | None = None
    ) -> APIFuture[str]:
        """Copy a checkpoint into this client's project (``RestClient.copy_weights``)."""
        return self.create_rest_client().copy_weights(
            path, self._project_id, ttl_seconds=ttl_seconds, weights_access_token=weights_access_token
        )

    def create_custom_loss(self, fn: Any, input_ranks: Mapping[str, int]) -> APIFuture[LossHandle]:
        """Not available: the SDK traces ``fn`` into a ``torch.fx`` graph, and tinkerlite ships no torch.

        Pass the callable itself to ``TrainingClient.forward_backward_custom``: tinkerlite runs it
        client-side and takes the gradients it returns (or autograd's, when torch is installed).
        """
        raise NotImplementedError(
            "ServiceClient.create_custom_loss traces the loss with torch.fx, which tinkerlite does not "
            "ship; pass the loss callable to TrainingClient.forward_backward_custom instead"
        )

    # ---- sampling / REST ---------------------------------------------------------------------------

    def create_sampling_client(
        self,
        model_path: str | None = None,
        base_model: str | None = None,
        retry_config: RetryConfig | None = None,
        record_stability_info: bool = False,
    ) -> BackcompatSamplingClientFuture:
        self._check_open()
        if model_path is None and base_model is None:
            raise ValueError("Either model_path or base_model must be provided")
        return BackcompatSamplingClientFuture(
            self.holder.run(
                SamplingClient.create_async(
                    self.holder,
                    model_path=model_path,
                    base_model=base_model,
                    retry_config=retry_config,
                    record_stability_info=record_stability_info,
                ),
                "ServiceClient.create_sampling_client",
            )
        )

    async def create_sampling_client_async(
        self,
        model_path: str | None = None,
        base_model: str | None = None,
        retry_config: RetryConfig | None = None,
        record_stability_info: bool = False,
    ) -> SamplingClient:
        return await self.create_sampling_client(model_path, base_model, retry_config, record_stability_info)

    def create_rest_client(self) -> RestClient:
        self._check_open()
        with self._lock:
            if self._rest is None:
                self._rest = RestClient(
                    rest_holder(
                        self._base_url,
                        self._api_key,
                        default_headers_overrides=self._headers,
                        unreachable_timeout=self._unreachable_timeout,
                        transport=self._transport,
                        **dict(self._holder_options or {}),
                    )
                )
            return self._rest

    def get_server_capabilities(self) -> Any:
        """The models this server offers (session-less; goes through the REST client)."""
        return self.create_rest_client().get_server_capabilities().result()

    async def get_server_capabilities_async(self) -> Any:
        return await self.create_rest_client().get_server_capabilities_async()

    # ---- lifecycle ---------------------------------------------------------------------------------

    def close(self, status: FinishStatus = "success", detail: str | None = None) -> APIFuture[None]:
        """Finish the session (``sessions/{id}/finish``, first reason wins) and stop background work."""
        with self._lock:
            if self._closed:
                return APIFuture.completed(None)
            self._closed = True
        holder = self.holder
        rest = self._rest
        if holder._started is None or not holder._started.done() or holder.session_id is None:
            holder.shutdown()
            if rest is not None:
                rest.close()
            return APIFuture.completed(None)

        async def go() -> None:
            await holder.finish_session(status, detail)

        fut = holder.run(go(), "ServiceClient.close")

        def cleanup(_f: Any) -> None:
            holder.shutdown()
            if rest is not None:
                rest.close()

        fut.add_done_callback(cleanup)
        return APIFuture(fut)


__all__ = ["ServiceClient", "TinkerError"]
