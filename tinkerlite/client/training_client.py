"""``TrainingClient``: one trained model; submissions in seq order, results awaited concurrently."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ValidationError
from . import custom_loss as cl
from . import headers as hdr
from . import results
from .api_future import APIFuture
from .chunking import Chunk, combine_outputs, plan_chunks
from .holder import ON_SENT, Holder
from .sequencing import IdCounter, TurnGate, training_seq_id

T = TypeVar("T")

if TYPE_CHECKING:
    from ..codec.body import Body
    from .backcompat import BackcompatSamplingClientFuture
    from .sampling_client import SamplingClient


class TrainingClient:
    """Created by ``ServiceClient.create_lora_training_client`` (or from saved state)."""

    def __init__(self, holder: Holder, model_seq_id: int, model_id: str, *, info: Any) -> None:
        self.holder = holder
        self.model_id = model_id
        self._model_seq_id = model_seq_id
        self._info = info
        self._ids = IdCounter()
        self._gate = TurnGate()

    def __repr__(self) -> str:
        return f"TrainingClient(model_id={self.model_id!r})"

    # ---- submission plumbing -------------------------------------------------------------------------

    async def _submit_json(self, path: str, body: dict[str, Any], *, max_retries: int = 10) -> dict[str, Any]:
        resp = await self.holder.execute_with_retries(
            lambda: self.holder.post_json(path, body, max_retries=max_retries)
        )
        if not isinstance(resp, dict) or not isinstance(resp.get("request_id"), str):
            from ..errors import ProtocolError

            raise ProtocolError(f"{path} did not return a future (request_id): {str(resp)[:200]}")
        return resp

    async def _wait_json(self, fut: dict[str, Any], request_type: str, cls: Any, start: float) -> Any:
        done = await self.holder.wait_future(
            fut["request_id"], request_type, False, roundtrip_s=self.holder.wall() - start
        )
        return results.json_record(done, cls)

    async def _in_turn(
        self, lo: int, hi: int | None, submit: Callable[[], Awaitable[T]], *, strict: bool = False
    ) -> T:
        """Submit in seq order, but pass the turn on as soon as this request is on the wire.

        The server orders execution by seq_id anyway, so the next submission need not wait for this
        POST's response: with 100 ms of network latency a pipelined SFT step then costs one round trip,
        not one per request. A submission that fails fails that call only (as in SDK 0.38): the turn
        still passes on, and the server takes a rejected seq_id as consumed.
        ``TINKERLITE_STRICT_SUBMIT_ORDER=1`` (or ``strict``) restores the official SDK's wait-for-response
        order: requests on different connections can overtake each other in flight.
        """
        if strict or self.holder.strict_submit_order:
            async with self._gate.turn(lo, hi):
                return await submit()
        loop = asyncio.get_running_loop()
        sent = asyncio.Event()

        def on_sent() -> None:
            loop.call_soon_threadsafe(sent.set)

        async with self._gate.turn(lo, hi):
            token = ON_SENT.set(on_sent)
            try:
                task = asyncio.ensure_future(submit())
            finally:
                ON_SENT.reset(token)
            waiter = asyncio.ensure_future(sent.wait())
            try:
                await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
            if task.done() and task.exception() is not None:
                await task  # raises inside the turn: this call fails, the turn passes on
        return await task

    def _run_ordered(
        self, path: str, make_body: Any, request_type: str, cls: Any, sdk_method: str, *, max_retries: int = 10
    ) -> APIFuture[Any]:
        request_id = self._ids.reserve(1)[0]

        async def go() -> Any:
            start = self.holder.wall()
            fut = await self._in_turn(
                request_id,
                None,
                lambda: self._submit_json(path, make_body(training_seq_id(request_id)), max_retries=max_retries),
            )
            return await self._wait_json(fut, request_type, cls, start)

        return APIFuture(self.holder.run(go(), sdk_method))

    # ---- forward / backward --------------------------------------------------------------------------

    def _plan(self, data: Sequence[Any]) -> list[Chunk]:
        if not data:
            raise ValueError("No data provided")
        cfg = self.holder.client_config
        return plan_chunks(list(data), cfg.fwdbwd_max_chunk_len, cfg.fwdbwd_max_chunk_bytes_count)

    async def _post_fwdbwd(
        self,
        request_id: int,
        chunk: Chunk,
        loss_fn: str,
        loss_fn_config: Mapping[str, float | str] | None,
        forward_only: bool,
    ) -> dict[str, Any]:
        from ..codec.fwdbwd_proto import encode_forward_backward_body

        # Pieces, not one joined copy of a multi-MB body, for a transport that writes them in turn.
        pieces = encode_forward_backward_body(
            chunk.data,
            loss_fn,
            model_id=self.model_id,
            seq_id=training_seq_id(request_id),
            loss_fn_config=dict(loss_fn_config) if loss_fn_config else None,
            forward_only=forward_only,
            version="0.38",
        )
        body: bytes | Body = pieces
        extra: dict[str, str] = {}
        if self.holder.client_config.proto_compress_fwdbwd:
            from .._optional import try_import

            if try_import("zstandard") is not None or try_import("compression.zstd") is not None:
                from ..codec.zstd import compress

                body = compress(pieces.tobytes())
                extra["Content-Encoding"] = "zstd"
        if body is pieces and not getattr(self.holder.transport, "accepts_body_pieces", False):
            body = pieces.tobytes()  # a substituted transport gets bytes, as before

        async def once() -> Any:
            resp = await self.holder.request(
                "POST", "/api/v1/forward_backward", body, content_type=hdr.PROTOBUF, extra_headers=extra
            )
            return self.holder.decode_json(resp)

        fut = await self.holder.execute_with_retries(once)
        if not isinstance(fut, dict) or not isinstance(fut.get("request_id"), str):
            from ..errors import ProtocolError

            raise ProtocolError(f"forward_backward did not return a future: {str(fut)[:200]}")
        return fut

    async def _fwdbwd_chunks(
        self,
        ids: range,
        chunks: list[Chunk],
        loss_fn: str,
        loss_fn_config: Mapping[str, float | str] | None,
        forward_only: bool,
    ) -> Any:
        """Submit chunks in turn (all together, first last, when parallel) and combine the results."""
        start = self.holder.wall()
        parallel = self.holder.client_config.parallel_fwdbwd_chunks
        request_type = "Forward" if forward_only else "ForwardBackward"

        async def submit(i: int) -> dict[str, Any]:
            lo, hi = (ids[0], ids[-1]) if parallel else (ids[i], None)
            # Serial chunks (parallel_fwdbwd_chunks off) must *arrive* in order: wait for each response.
            return await self._in_turn(
                lo,
                hi,
                lambda: self._post_fwdbwd(ids[i], chunks[i], loss_fn, loss_fn_config, forward_only),
                strict=not parallel,
            )

        if parallel and len(chunks) > 1:
            rest = list(await asyncio.gather(*(submit(i) for i in range(1, len(chunks)))))
            futs = [await submit(0), *rest]
        else:
            futs = list(await asyncio.gather(*(submit(i) for i in range(len(chunks)))))

        async def wait(fut: dict[str, Any]) -> Any:
            done = await self.holder.wait_future(
                fut["request_id"], request_type, True, roundtrip_s=self.holder.wall() - start
            )
            return results.forward_backward_output(done)

        outs = await asyncio.gather(*(wait(f) for f in futs))
        return combine_outputs(outs)

    def _fwd_bwd(
        self,
        data: Sequence[Any],
        loss_fn: str,
        loss_fn_config: Mapping[str, float | str] | None,
        forward_only: bool,
        sdk_method: str,
    ) -> APIFuture[Any]:
        from ..types.params import LOSS_FN_TYPES

        if loss_fn not in LOSS_FN_TYPES:  # the SDK's LossFnType Literal rejects these before sending, too
            raise ValidationError(f"must be one of {', '.join(LOSS_FN_TYPES)}; got {loss_fn!r}", field="loss_fn")
        chunks = self._plan(data)
        ids = self._ids.reserve(len(chunks))
        return APIFuture(
            self.holder.run(self._fwdbwd_chunks(ids, chunks, loss_fn, loss_fn_config, forward_only), sdk_method)
        )

    def forward(
        self, data: list[Any], loss_fn: str, loss_fn_config: Mapping[str, float | str] | None = None
    ) -> APIFuture[Any]:
        """Forward pass only (``forward_only`` protobuf flag); no gradients are accumulated."""
        return self._fwd_bwd(data, loss_fn, loss_fn_config, True, "TrainingClient.forward")

    async def forward_async(
        self, data: list[Any], loss_fn: str, loss_fn_config: Mapping[str, float | str] | None = None
    ) -> APIFuture[Any]:
        return self.forward(data, loss_fn, loss_fn_config)

    def forward_backward(
        self, data: list[Any], loss_fn: str, loss_fn_config: Mapping[str, float | str] | None = None
    ) -> APIFuture[Any]:
        """Accumulate gradients of ``loss_fn`` over ``data`` (chunked per the server's limits)."""
        return self._fwd_bwd(data, loss_fn, loss_fn_config, False, "TrainingClient.forward_backward")

    async def forward_backward_async(
        self, data: list[Any], loss_fn: str, loss_fn_config: Mapping[str, float | str] | None = None
    ) -> APIFuture[Any]:
        return self.forward_backward(data, loss_fn, loss_fn_config)

    def forward_backward_custom(
        self, data: list[Any], loss_fn: cl.CustomLossFn | cl.LossHandle, *, loss_type_input: Any = None
    ) -> APIFuture[Any]:
        """Custom loss computed here (§7); see :mod:`tinkerlite.client.custom_loss` for the contract.

        ``loss_type_input`` is the SDK's (deprecated there, ignored here: the inputs are the datums').
        A ``LossHandle`` needs the SDK's torch.fx graph runner, so it is rejected with that reason.

        ``2 × chunks`` seq ids are reserved now, so an ``optim_step`` called right after is ordered
        after the backward pass.
        """
        if isinstance(loss_fn, cl.LossHandle):
            raise NotImplementedError(
                "forward_backward_custom with a LossHandle runs a torch.fx graph, which tinkerlite does not "
                "ship; pass the loss callable itself"
            )
        fwd_data = [cl.forward_datum(d) for d in data]
        chunks = self._plan(fwd_data)
        n = len(chunks)
        ids = self._ids.reserve(2 * n)
        fwd_ids, bwd_ids = ids[:n], ids[n:]

        async def go() -> Any:
            try:
                fwd = await self._fwdbwd_chunks(fwd_ids, chunks, "cross_entropy", None, True)
                logprobs = cl.logprobs_lists(fwd.loss_fn_outputs)
                loss, metrics, grads = await asyncio.get_running_loop().run_in_executor(
                    None, cl.run_loss, loss_fn, list(data), logprobs
                )
                bwd_chunks = [
                    Chunk(
                        c.start,
                        [cl.surrogate_datum(d, grads[c.start + j], c.start + j) for j, d in enumerate(c.data)],
                        c.estimated_bytes,
                    )
                    for c in chunks
                ]
            except BaseException as e:
                self._gate.poison(e)  # the reserved backward ids will never be sent (the SDK poisons too)
                raise
            out = await self._fwdbwd_chunks(bwd_ids, bwd_chunks, "cross_entropy", None, False)
            new_metrics = dict(out.metrics)
            surrogate = new_metrics.pop("loss:sum", None)
            new_metrics["loss:sum"] = loss
            if surrogate is not None:
                new_metrics["surrogate_loss:sum"] = surrogate
            new_metrics.update(metrics)
            return type(out)(out.loss_fn_output_type, out.loss_fn_outputs, new_metrics)

        return APIFuture(self.holder.run(go(), "TrainingClient.forward_backward_custom"))

    async def forward_backward_custom_async(
        self, data: list[Any], loss_fn: cl.CustomLossFn | cl.LossHandle, *, loss_type_input: Any = None
    ) -> APIFuture[Any]:
        return self.forward_backward_custom(data, loss_fn, loss_type_input=loss_type_input)

    # ---- optimizer and weights -----------------------------------------------------------------------

    def optim_step(self, optim_params: Any = None, *, adam_params: Any = None) -> APIFuture[Any]:
        if optim_params is not None and adam_params is not None:
            raise ValueError("Specify optim_params or legacy adam_params, not both")
        params = optim_params if optim_params is not None else adam_params
        from ..types import AdamParams, OptimStepResponse
        from ..types.optim_step_request import OptimStepRequest
        from ..types.optimizer import OptimParamsBase

        if not isinstance(params, (AdamParams, OptimParamsBase)):
            raise TypeError("Expected AdamParams or OptimParamsBase")

        def body(seq_id: int) -> dict[str, Any]:
            # "adam_params" for Adam, "optimizer_params" (with its "type") for other families.
            return OptimStepRequest(optim_params=params, model_id=self.model_id, seq_id=seq_id).to_json()

        return self._run_ordered(
            "/api/v1/optim_step", body, "OptimStep", OptimStepResponse, "TrainingClient.optim_step"
        )

    async def optim_step_async(self, optim_params: Any = None, *, adam_params: Any = None) -> APIFuture[Any]:
        return self.optim_step(optim_params, adam_params=adam_params)

    def save_state(
        self,
        name: str,
        ttl_seconds: int | None = None,
        overwrite: bool = False,
        user_metadata: dict[str, str] | None = None,
    ) -> APIFuture[Any]:
        from ..types import SaveWeightsResponse

        def body(seq_id: int) -> dict[str, Any]:
            b: dict[str, Any] = {"model_id": self.model_id, "path": name, "seq_id": seq_id}
            if ttl_seconds is not None:
                b["ttl_seconds"] = ttl_seconds
            b["overwrite"] = overwrite
            if user_metadata is not None:
                b["user_metadata"] = user_metadata
            b["type"] = "save_weights"
            return b

        return self._run_ordered(
            "/api/v1/save_weights",
            body,
            "SaveWeights",
            SaveWeightsResponse,
            "TrainingClient.save_state",
            max_retries=0,
        )

    async def save_state_async(
        self,
        name: str,
        ttl_seconds: int | None = None,
        overwrite: bool = False,
        user_metadata: dict[str, str] | None = None,
    ) -> APIFuture[Any]:
        return self.save_state(name, ttl_seconds, overwrite, user_metadata)

    def save_weights_external(
        self, name: str, ttl_seconds: int | None = None, age_encryption_recipients: list[str] | None = None
    ) -> APIFuture[Any]:
        """Save the adapters in an external (HF PEFT) format as ``tinker://<run>/external_weights/<name>``."""
        from ..types import SaveWeightsExternalResponse

        def body(seq_id: int) -> dict[str, Any]:
            b: dict[str, Any] = {"model_id": self.model_id, "path": name, "seq_id": seq_id}
            if ttl_seconds is not None:
                b["ttl_seconds"] = ttl_seconds
            if age_encryption_recipients is not None:
                b["age_encryption_recipients"] = list(age_encryption_recipients)
            b["type"] = "save_weights_external"
            return b

        return self._run_ordered(
            "/api/v1/save_weights_external",
            body,
            "SaveWeightsExternal",
            SaveWeightsExternalResponse,
            "TrainingClient.save_weights_external",
            max_retries=0,
        )

    async def save_weights_external_async(
        self, name: str, ttl_seconds: int | None = None, age_encryption_recipients: list[str] | None = None
    ) -> APIFuture[Any]:
        return self.save_weights_external(name, ttl_seconds, age_encryption_recipients)

    def _load(self, path: str, optimizer: bool, token: str | None, method: str) -> APIFuture[Any]:
        from ..types import LoadWeightsResponse

        def body(seq_id: int) -> dict[str, Any]:
            b: dict[str, Any] = {"model_id": self.model_id, "path": path, "seq_id": seq_id, "optimizer": optimizer}
            if token is not None:
                b["weights_access_token"] = token
            b["type"] = "load_weights"
            return b

        return self._run_ordered("/api/v1/load_weights", body, "LoadWeights", LoadWeightsResponse, method)

    def load_state(self, path: str, weights_access_token: str | None = None) -> APIFuture[Any]:
        """Deprecated upstream; prefer ``ServiceClient.create_training_client_from_state``."""
        return self._load(path, False, weights_access_token, "TrainingClient.load_state")

    async def load_state_async(self, path: str, weights_access_token: str | None = None) -> APIFuture[Any]:
        return self.load_state(path, weights_access_token)

    def load_state_with_optimizer(self, path: str, weights_access_token: str | None = None) -> APIFuture[Any]:
        return self._load(path, True, weights_access_token, "TrainingClient.load_state_with_optimizer")

    async def load_state_with_optimizer_async(
        self, path: str, weights_access_token: str | None = None
    ) -> APIFuture[Any]:
        return self.load_state_with_optimizer(path, weights_access_token)

    def _save_for_sampler(
        self,
        name: str | None,
        ttl_seconds: int | None,
        user_metadata: dict[str, str] | None,
        kind: str,
        sdk_method: str = "TrainingClient.save_weights_for_sampler",
    ) -> APIFuture[Any]:
        from ..types import SaveWeightsForSamplerResponse

        sampling_seq = None if name is not None else self.holder.sampling_session_seq_ids.reserve(1)[0]

        def body(seq_id: int) -> dict[str, Any]:
            b: dict[str, Any] = {"model_id": self.model_id}
            if name is not None:
                b["path"] = name
            b["seq_id"] = seq_id
            if sampling_seq is not None:
                b["sampling_session_seq_id"] = sampling_seq
            if ttl_seconds is not None:
                b["ttl_seconds"] = ttl_seconds
            if user_metadata is not None:
                b["user_metadata"] = user_metadata
            b["kind"] = kind
            b["type"] = "save_weights_for_sampler"
            return b

        return self._run_ordered(
            "/api/v1/save_weights_for_sampler",
            body,
            "SaveWeightsForSampler",
            SaveWeightsForSamplerResponse,
            sdk_method,
            max_retries=0,
        )

    def save_weights_for_sampler(
        self, name: str, ttl_seconds: int | None = None, user_metadata: dict[str, str] | None = None
    ) -> APIFuture[Any]:
        return self._save_for_sampler(name, ttl_seconds, user_metadata, "snapshot")

    async def save_weights_for_sampler_async(
        self, name: str, ttl_seconds: int | None = None, user_metadata: dict[str, str] | None = None
    ) -> APIFuture[Any]:
        return self.save_weights_for_sampler(name, ttl_seconds, user_metadata)

    def save_weights_and_get_sampling_client(
        self,
        name: str | None = None,
        retry_config: Any = None,
        record_stability_info: bool = False,
        kind: str = "snapshot",
    ) -> BackcompatSamplingClientFuture:
        """Save a sampler snapshot for this session and return a client sampling from it.

        ``name`` is ignored (deprecated upstream: these checkpoints are always ephemeral).
        """
        from .sampling_client import SamplingClient

        if name is not None:
            warnings.warn(
                "The 'name' parameter of save_weights_and_get_sampling_client() is deprecated and has no "
                "effect; use save_weights_for_sampler(name) + create_sampling_client(model_path) instead.",
                DeprecationWarning,
                stacklevel=2,
            )
        method = "TrainingClient.save_weights_and_get_sampling_client"
        save = self._save_for_sampler(None, None, None, kind, method)

        async def go() -> SamplingClient:
            saved = await save
            sid = getattr(saved, "sampling_session_id", None)
            if not sid:
                from ..errors import ProtocolError

                raise ProtocolError("save_weights_for_sampler returned no sampling_session_id")
            return SamplingClient(
                self.holder,
                sid,
                base_model=self._base_model_name(),
                retry_config=retry_config,
                record_stability_info=record_stability_info,
            )

        from .backcompat import BackcompatSamplingClientFuture

        return BackcompatSamplingClientFuture(self.holder.run(go(), method))

    async def save_weights_and_get_sampling_client_async(
        self,
        name: str | None = None,
        retry_config: Any = None,
        record_stability_info: bool = False,
        kind: str = "snapshot",
    ) -> SamplingClient:
        return await self.save_weights_and_get_sampling_client(name, retry_config, record_stability_info, kind)

    def create_sampling_client(
        self, model_path: str, retry_config: Any = None, record_stability_info: bool = False
    ) -> BackcompatSamplingClientFuture:
        from .backcompat import BackcompatSamplingClientFuture
        from .sampling_client import SamplingClient

        return BackcompatSamplingClientFuture(
            self.holder.run(
                SamplingClient.create_async(
                    self.holder,
                    model_path=model_path,
                    retry_config=retry_config,
                    record_stability_info=record_stability_info,
                ),
                "TrainingClient.create_sampling_client",
            )
        )

    async def create_sampling_client_async(
        self, model_path: str, retry_config: Any = None, record_stability_info: bool = False
    ) -> SamplingClient:
        return await self.create_sampling_client(model_path, retry_config, record_stability_info)

    # ---- info ----------------------------------------------------------------------------------------

    def _base_model_name(self) -> str | None:
        info = self._info
        data = getattr(info, "model_data", None)
        return getattr(data, "model_name", None) or getattr(info, "model_name", None)

    async def _fetch_info(self) -> Any:
        from ..types import GetInfoResponse

        raw = await self.holder.post_json("/api/v1/get_info", {"model_id": self.model_id, "type": "get_info"})
        self._info = GetInfoResponse.from_json(raw)
        return self._info

    def get_info(self) -> Any:
        if self._info is not None:
            return self._info
        return APIFuture(self.holder.run(self._fetch_info(), "TrainingClient.get_info")).result()

    async def get_info_async(self) -> Any:
        if self._info is not None:
            return self._info
        return await APIFuture(self.holder.run(self._fetch_info(), "TrainingClient.get_info"))

    def get_tokenizer(self) -> Any:
        info = self.get_info()
        tokenizer_id = getattr(getattr(info, "model_data", None), "tokenizer_id", None) or self._base_model_name()
        if not tokenizer_id:
            raise ValidationError("the server reported no tokenizer_id or model_name", field="get_info")
        return _load_tokenizer(tokenizer_id.split(":")[0])

    def get_console_url(self) -> str:
        """The Tinker console page of this training run."""
        from ..types import _console

        return _console.training_run_url(self.model_id)

    def get_telemetry(self) -> None:
        """tinkerlite collects no telemetry."""
        return None

    def _now(self) -> float:
        return time.time()


def _load_tokenizer(name: str) -> Any:
    try:
        from ..tokenizers import get_tokenizer
    except ImportError:
        raise NotImplementedError(
            f"tokenizer loading for {name!r} is not available in this build of tinkerlite yet"
        ) from None
    return get_tokenizer(name)
