"""``ServiceClient``: the entry point; owns the session and creates training/sampling/REST clients."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal

from .._exceptions import TinkerError
from .api_future import APIFuture, ClientFuture
from .config import project_id_from_env
from .holder import Holder
from .rest_client import RestClient
from .sampling_client import RetryConfig, SamplingClient
from .training_client import TrainingClient
from .transport import Transport

FinishStatus = Literal["success", "errored", "interrupted"]


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
        unreachable_timeout: float | None = None,
        transport: Transport | None = None,
        **kwargs: Any,
    ) -> None:
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
        self.holder = Holder(
            base_url=base_url,
            api_key=api_key,
            user_metadata=user_metadata,
            project_id=project_id_from_env(project_id),
            display_name=display_name,
            default_headers_overrides=self._headers,
            unreachable_timeout=unreachable_timeout,
            transport=transport,
            **holder_options,
        )
        self._rest: RestClient | None = None
        self._lock = threading.Lock()
        self._closed = False

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
        optimizer: Any = None,
    ) -> ClientFuture[TrainingClient]:
        """Create a LoRA model (``create_model``) and return a future of its TrainingClient."""
        self._check_open()
        if not (train_mlp or train_attn or train_unembed):
            raise ValueError("At least one of train_mlp, train_attn, or train_unembed must be True")
        from ..types import LoraConfig

        holder = self.holder
        model_seq_id = holder.model_seq_ids.reserve(1)[0]
        lora = LoraConfig(
            rank=rank, seed=seed, train_unembed=train_unembed, train_mlp=train_mlp, train_attn=train_attn
        ).to_json()
        optimizer_config = optimizer.to_json() if optimizer is not None else {"type": "adamw"}

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
            fut = await holder.post_json("/api/v1/create_model", body)
            done = await holder.wait_future(fut["request_id"], "CreateModel", False, holder.wall() - start)
            model_id = json_record(done, CreateModelResponse).model_id
            client = TrainingClient(holder, model_seq_id, model_id)
            await client._fetch_info()
            return client

        return ClientFuture(holder.run(go(), "ServiceClient.create_lora_training_client"))

    async def create_lora_training_client_async(self, base_model: str, rank: int = 32, **kw: Any) -> TrainingClient:
        return await self.create_lora_training_client(base_model, rank, **kw)

    def _from_state(
        self,
        path: str,
        optimizer: bool,
        base_model: str | None,
        user_metadata: dict[str, str] | None,
        weights_access_token: str | None,
        optimizer_config: Any,
        method: str,
    ) -> ClientFuture[TrainingClient]:
        self._check_open()
        holder = self.holder
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
            if optimizer_config is not None:
                body["optimizer_config"] = optimizer_config.to_json()
            if weights_access_token is not None:
                body["weights_access_token"] = weights_access_token
            body["type"] = "load_weights"
            fut = await holder.execute_with_retries(lambda: holder.post_json("/api/v1/load_weights", body))
            await holder.wait_future(fut["request_id"], "LoadWeights", False, holder.wall() - start)
            client = TrainingClient(holder, model_seq_id, model_id)
            await client._fetch_info()
            return client

        return ClientFuture(holder.run(go(), method))

    def create_training_client_from_state(
        self,
        path: str,
        base_model: str | None = None,
        user_metadata: dict[str, str] | None = None,
        weights_access_token: str | None = None,
        optimizer: Any = None,
    ) -> ClientFuture[TrainingClient]:
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

    async def create_training_client_from_state_async(self, path: str, **kw: Any) -> TrainingClient:
        return await self.create_training_client_from_state(path, **kw)

    def create_training_client_from_state_with_optimizer(
        self,
        path: str,
        base_model: str | None = None,
        user_metadata: dict[str, str] | None = None,
        weights_access_token: str | None = None,
    ) -> ClientFuture[TrainingClient]:
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

    async def create_training_client_from_state_with_optimizer_async(self, path: str, **kw: Any) -> TrainingClient:
        return await self.create_training_client_from_state_with_optimizer(path, **kw)

    # ---- sampling / REST ---------------------------------------------------------------------------

    def create_sampling_client(
        self,
        model_path: str | None = None,
        base_model: str | None = None,
        retry_config: RetryConfig | None = None,
        record_stability_info: bool = False,
    ) -> ClientFuture[SamplingClient]:
        self._check_open()
        if model_path is None and base_model is None:
            raise ValueError("Either model_path or base_model must be provided")
        return ClientFuture(
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
        self, model_path: str | None = None, base_model: str | None = None, retry_config: RetryConfig | None = None
    ) -> SamplingClient:
        return await self.create_sampling_client(model_path, base_model, retry_config)

    def create_rest_client(self) -> RestClient:
        self._check_open()
        with self._lock:
            if self._rest is None:
                self._rest = RestClient(
                    base_url=self._base_url,
                    api_key=self._api_key,
                    default_headers_overrides=self._headers,
                    unreachable_timeout=self._unreachable_timeout,
                    transport=self._transport,
                    _holder_options=self._holder_options,
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
