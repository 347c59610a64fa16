"""``SamplingClient``: concurrent sampling against one sampling session (§2.4, §4.4, §6.2)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import random
import threading
import time
import weakref
from typing import Any

from .._exceptions import APIStatusError, TinkerError
from ..errors import ProtocolError
from ..types._lazy import dataclass
from . import results
from .api_future import APIFuture
from .holder import Holder
from .retry import is_sample_retryable, sample_backpressure_s, sample_retry_delay
from .sequencing import IdCounter, clone_seq_start

log = logging.getLogger(__name__)
QUEUE_STATE_LOG_INTERVAL_S = 60.0

MAX_CONCURRENT_DISPATCH = 400
THROTTLED_DISPATCH = 10
THROTTLE_AFTER_BACKOFF_S = 10.0
SAMPLE_TOKEN_BYTES = 10


@dataclass(frozen=True)
class RetryConfig:
    """Sampling retry policy; field names follow the official ``RetryConfig``."""

    max_connections: int | None = 1000
    progress_timeout: float = 120 * 60
    retry_delay_base: float = 0.5
    retry_delay_max: float = 10.0
    jitter_factor: float = 0.25
    enable_retry_logic: bool = True
    enable_stuck_detection: bool = True


def estimate_prompt_bytes(prompt: Any) -> int:
    """Sampling dispatch estimate: 10 bytes a token; image/dmel payloads count their length."""
    total = 0
    for chunk in prompt.chunks:
        kind = getattr(chunk, "type", "encoded_text")
        if kind == "dmel":
            total += len(chunk.dmel)
        elif kind == "image":
            total += len(chunk.data)
        elif kind == "image_asset_pointer":
            total += len(chunk.location)
        else:
            total += chunk.length * SAMPLE_TOKEN_BYTES
    return total


def attach_sequence_ids(response: Any, ids: list[str] | None) -> Any:
    """Stamp the submission's ``sample_sequence_ids`` on the sequences (0.38); absent ids leave None."""
    if ids is None:
        return response
    if len(ids) != len(response.sequences):
        raise ProtocolError(f"{len(ids)} sample_sequence_ids for {len(response.sequences)} sequences")
    return dataclasses.replace(
        response,
        sequences=[dataclasses.replace(s, sequence_id=i) for s, i in zip(response.sequences, ids, strict=True)],
    )


_Sems = tuple[asyncio.Semaphore, asyncio.Semaphore, asyncio.Semaphore]
_SEMAPHORES: weakref.WeakKeyDictionary[Holder, _Sems] = weakref.WeakKeyDictionary()
_SEM_LOCK = threading.Lock()


def _holder_semaphores(holder: Holder) -> _Sems:
    """(whole-sample limit, dispatch limit, post-back-pressure limit), shared per holder."""
    with _SEM_LOCK:
        sems = _SEMAPHORES.get(holder)
        if sems is None:
            limit = holder.client_config.sample_max_concurrent_requests
            sems = (
                asyncio.Semaphore(limit),
                asyncio.Semaphore(MAX_CONCURRENT_DISPATCH),
                asyncio.Semaphore(THROTTLED_DISPATCH),
            )
            _SEMAPHORES[holder] = sems
        return sems


class SamplingClient:
    def __init__(
        self,
        holder: Holder,
        sampling_session_id: str,
        *,
        base_model: str | None = None,
        model_path: str | None = None,
        retry_config: RetryConfig | None = None,
        record_stability_info: bool = False,
        seq_start: int = 0,
    ) -> None:
        self.holder = holder
        self.sampling_session_id = sampling_session_id
        self._base_model = base_model
        self._model_path = model_path
        self.retry_config = retry_config or RetryConfig()
        self._record_stability_info = record_stability_info
        self._seq = IdCounter(seq_start)

    def __repr__(self) -> str:
        return f"SamplingClient(sampling_session_id={self.sampling_session_id!r})"

    # ---- creation ------------------------------------------------------------------------------------

    @staticmethod
    def create(
        holder: Holder,
        *,
        model_path: str | None = None,
        base_model: str | None = None,
        sampling_session_id: str | None = None,
        retry_config: RetryConfig | None = None,
        record_stability_info: bool = False,
    ) -> APIFuture[SamplingClient]:
        """A client for a new sampling session (``model_path`` or ``base_model``), or for the existing
        ``sampling_session_id``."""
        return APIFuture(
            holder.run(
                SamplingClient.create_async(
                    holder,
                    model_path=model_path,
                    base_model=base_model,
                    sampling_session_id=sampling_session_id,
                    retry_config=retry_config,
                    record_stability_info=record_stability_info,
                ),
                "SamplingClient.create",
            )
        )

    @classmethod
    async def create_async(
        cls,
        holder: Holder,
        *,
        model_path: str | None = None,
        base_model: str | None = None,
        sampling_session_id: str | None = None,
        retry_config: RetryConfig | None = None,
        record_stability_info: bool = False,
    ) -> SamplingClient:
        if sampling_session_id is not None:
            joined = cls(
                holder,
                sampling_session_id,
                base_model=base_model,
                model_path=model_path,
                retry_config=retry_config,
                record_stability_info=record_stability_info,
            )
            if base_model is None:
                await joined._fetch_base_model()
            return joined
        if model_path is None and base_model is None:
            raise ValueError("Either model_path or base_model must be provided")
        seq = holder.sampling_session_seq_ids.reserve(1)[0]
        body: dict[str, Any] = {"session_id": holder.session_id, "sampling_session_seq_id": seq}
        if base_model is not None:
            body["base_model"] = base_model
        if model_path is not None:
            body["model_path"] = model_path
        body["type"] = "create_sampling_session"
        resp = await holder.execute_with_retries(lambda: holder.post_json("/api/v1/create_sampling_session", body))
        sid = resp.get("sampling_session_id") if isinstance(resp, dict) else None
        if not isinstance(sid, str):
            raise ProtocolError("create_sampling_session returned no sampling_session_id")
        client = cls(
            holder,
            sid,
            base_model=base_model,
            model_path=model_path,
            retry_config=retry_config,
            record_stability_info=record_stability_info,
        )
        if base_model is None:
            await client._fetch_base_model()
        return client

    async def _fetch_base_model(self) -> str:
        raw = await self.holder.execute_with_retries(
            lambda: self.holder.call_json("GET", f"/api/v1/samplers/{self.sampling_session_id}")
        )
        bm = raw.get("base_model") if isinstance(raw, dict) else None
        if isinstance(bm, str):
            self._base_model = bm
        return self._base_model or ""

    # ---- sampling --------------------------------------------------------------------------------------

    def _body(
        self,
        seq_id: int,
        prompt: Any,
        num_samples: int,
        sampling_params: Any,
        include_prompt_logprobs: bool,
        topk_prompt_logprobs: int,
        topk_sample_logprobs: int,
        target_prompt_logprobs: Any,
        prompt_alt_tokens_k: int,
        prompt_logprobs_last_n: int | None,
    ) -> dict[str, Any]:
        from ..types import tensor_to_json

        body: dict[str, Any] = {
            "num_samples": num_samples,
            "prompt": prompt.to_json(),
            "sampling_params": sampling_params.to_json(),
            "sampling_session_id": self.sampling_session_id,
            "seq_id": seq_id,
            "prompt_logprobs": include_prompt_logprobs,
            "topk_prompt_logprobs": topk_prompt_logprobs,
            "topk_sample_logprobs": topk_sample_logprobs,
        }
        if target_prompt_logprobs is not None:
            body["target_prompt_logprobs"] = tensor_to_json(target_prompt_logprobs)
        body["prompt_alt_tokens_k"] = prompt_alt_tokens_k
        if prompt_logprobs_last_n is not None:
            body["prompt_logprobs_last_n"] = prompt_logprobs_last_n
        body["record_stability_info"] = self._record_stability_info
        body["type"] = "sample"
        return body

    async def _submit(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """One ``asample`` POST; None means back-pressure (429, or 402 while paused)."""
        try:
            return await self.holder.post_json(  # type: ignore[no-any-return]
                "/api/v1/asample", body, max_retries=0, extra_headers={"X-Tinker-Sampling-Backpressure": "1"}
            )
        except APIStatusError as e:
            if e.status_code == 429 or self.holder.billing.should_pause(e.status_code, self.holder.clock()):
                return None
            raise

    async def _sample_once(self, estimated: int, **kw: Any) -> Any:
        holder = self.holder
        seq_id = self._seq.reserve(1)[0]
        body = self._body(seq_id, **kw)
        _, dispatch, throttled = _holder_semaphores(holder)
        async with dispatch:
            while True:
                until = holder.sample_backoff_until
                if until is not None and holder.clock() < until:
                    await holder.sleep(min(1.0, until - holder.clock()))
                    continue
                if until is not None and holder.clock() < until + THROTTLE_AFTER_BACKOFF_S:
                    # shortly after back-pressure, at most 10 dispatches in flight (as the SDK does)
                    async with throttled:
                        fut = await holder.execute_with_retries(lambda: self._submit(body))
                else:
                    fut = await holder.execute_with_retries(lambda: self._submit(body))
                if fut is not None:
                    break
                holder.sample_backoff_until = holder.clock() + sample_backpressure_s(estimated)
        if not isinstance(fut, dict) or not isinstance(fut.get("request_id"), str):
            raise ProtocolError(f"asample did not return a future: {str(fut)[:200]}")
        done = await holder.wait_future(fut["request_id"], "Sample", True)
        response = results.sample_response(done)
        return attach_sequence_ids(response, fut.get("sample_sequence_ids"))

    async def _sample(self, **kw: Any) -> Any:
        overall, _, _ = _holder_semaphores(self.holder)
        estimated = estimate_prompt_bytes(kw["prompt"])
        cfg = self.retry_config
        attempt = 0
        async with overall:
            while True:
                try:
                    return await self._sample_once(estimated, **kw)
                except Exception as e:
                    if not cfg.enable_retry_logic or not is_sample_retryable(e):
                        raise
                    delay = sample_retry_delay(attempt, self.holder.rng, cfg.retry_delay_base, cfg.retry_delay_max)
                    attempt += 1
                    await self.holder.sleep(delay)

    def sample(
        self,
        prompt: Any,
        num_samples: int,
        sampling_params: Any,
        include_prompt_logprobs: bool = False,
        topk_prompt_logprobs: int = 0,
        topk_sample_logprobs: int = 0,
        target_prompt_logprobs: Any = None,
        prompt_alt_tokens_k: int = 0,
        prompt_logprobs_last_n: int | None = None,
        *,
        _sdk_method: str = "SamplingClient.sample",
    ) -> APIFuture[Any]:
        """Generate ``num_samples`` continuations of ``prompt``; returns a future ``SampleResponse``."""
        coro = self._sample(
            prompt=prompt,
            num_samples=num_samples,
            sampling_params=sampling_params,
            include_prompt_logprobs=include_prompt_logprobs,
            topk_prompt_logprobs=topk_prompt_logprobs,
            topk_sample_logprobs=topk_sample_logprobs,
            target_prompt_logprobs=target_prompt_logprobs,
            prompt_alt_tokens_k=prompt_alt_tokens_k,
            prompt_logprobs_last_n=prompt_logprobs_last_n,
        )
        return APIFuture(self.holder.run(coro, _sdk_method))

    async def sample_async(
        self,
        prompt: Any,
        num_samples: int,
        sampling_params: Any,
        include_prompt_logprobs: bool = False,
        topk_prompt_logprobs: int = 0,
        topk_sample_logprobs: int = 0,
        target_prompt_logprobs: Any = None,
        prompt_alt_tokens_k: int = 0,
        prompt_logprobs_last_n: int | None = None,
    ) -> Any:
        return await self.sample(
            prompt,
            num_samples,
            sampling_params,
            include_prompt_logprobs,
            topk_prompt_logprobs,
            topk_sample_logprobs,
            target_prompt_logprobs,
            prompt_alt_tokens_k,
            prompt_logprobs_last_n,
        )

    def compute_logprobs(self, prompt: Any, prompt_logprobs_last_n: int | None = None) -> APIFuture[Any]:
        """Log-probs of each prompt token given its prefix (position 0 is None)."""
        from ..types import SamplingParams

        fut = self.sample(
            prompt,
            1,
            SamplingParams(max_tokens=1),
            include_prompt_logprobs=True,
            prompt_logprobs_last_n=prompt_logprobs_last_n,
            _sdk_method="SamplingClient.compute_logprobs",
        )
        return fut.map(lambda r: r.prompt_logprobs)

    async def compute_logprobs_async(self, prompt: Any, prompt_logprobs_last_n: int | None = None) -> Any:
        return await self.compute_logprobs(prompt, prompt_logprobs_last_n)

    # ---- info --------------------------------------------------------------------------------------------

    def get_base_model(self) -> str:
        if self._base_model:
            return self._base_model
        return APIFuture(self.holder.run(self._fetch_base_model(), "SamplingClient.get_base_model")).result()

    async def get_base_model_async(self) -> str:
        if self._base_model:
            return self._base_model
        return await APIFuture(self.holder.run(self._fetch_base_model(), "SamplingClient.get_base_model"))

    def get_tokenizer(self) -> Any:
        from .training_client import _load_tokenizer

        return _load_tokenizer(self.get_base_model())

    def get_telemetry(self) -> None:
        """tinkerlite collects no telemetry."""
        return None

    def on_queue_state_change(self, queue_state: Any, queue_state_reason: str | None) -> None:
        """Log (at most once a minute) that sampling is paused, and why."""
        state = str(getattr(queue_state, "value", queue_state))
        if state == "active":
            return
        now = time.time()
        if now - getattr(self, "_queue_state_logged_at", 0.0) < QUEUE_STATE_LOG_INTERVAL_S:
            return
        if not queue_state_reason:
            queue_state_reason = {
                "paused_rate_limit": "concurrent sampler weights limit hit",
                "paused_capacity": "Tinker backend is running short on capacity, please wait",
            }.get(state, "unknown")
        self._queue_state_logged_at = now
        log.warning("Sampling is paused for sampler %s. Reason: %s", self.sampling_session_id, queue_state_reason)

    # ---- handles and pickling: a clone with its own 1e9 seq-id block ------------------------------------

    def get_sampler_handle(self) -> str:
        """A credential-free string naming this sampler; ``from_sampler_handle`` makes a client of it in
        any process (a pickle-free way to hand a sampler to workers)."""
        state = self._state(api_key=None)
        return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()

    @staticmethod
    def from_sampler_handle(handle: str, *, api_key: str | None = None) -> SamplingClient:
        """A new client for the sampler behind ``handle``, authenticated with this process's credential
        (or ``api_key``)."""
        try:
            state = json.loads(base64.urlsafe_b64decode(handle.encode()))
        except (ValueError, TypeError):
            raise ValueError("not a sampler handle (from SamplingClient.get_sampler_handle)") from None
        if not isinstance(state, dict) or "sampling_session_id" not in state:
            raise ValueError("not a sampler handle (from SamplingClient.get_sampler_handle)")
        state["api_key"] = api_key
        return _unpickle(state)

    def __reduce__(self) -> Any:
        # Never the key: a pickle is a file anyone may read. The clone reads TINKER_API_KEY (or
        # api_key_cmd) in the process that unpickles it, and says so if neither is set there.
        return (_unpickle, (self._state(api_key=None),))

    def _state(self, api_key: str | None) -> dict[str, Any]:
        return {
            "base_url": self.holder.base.url,
            "api_key": api_key,
            "session_id": self.holder.session_id,
            "client_config": dataclasses.asdict(self.holder.client_config),
            "sampling_session_id": self.sampling_session_id,
            "base_model": self._base_model,
            "model_path": self._model_path,
            "retry_config": dataclasses.asdict(self.retry_config),
            "record_stability_info": self._record_stability_info,
        }


def _unpickle(state: dict[str, Any]) -> SamplingClient:
    from .config import ClientConfig

    try:
        holder = Holder(
            base_url=state["base_url"],
            api_key=state["api_key"],
            preset_session_id=state["session_id"],
            preset_client_config=ClientConfig(**state["client_config"]),
        )
    except TinkerError as e:
        if state["api_key"] is not None:
            raise
        raise TinkerError(
            f"cannot rebuild the SamplingClient for {state['sampling_session_id']}: a pickled or handed-over "
            f"client carries no API key, and this process has none ({e})"
        ) from None
    clone_id = random.randint(1, 1_000_000_000)
    return SamplingClient(
        holder,
        state["sampling_session_id"],
        base_model=state["base_model"],
        model_path=state["model_path"],
        retry_config=RetryConfig(**state["retry_config"]),
        record_stability_info=state["record_stability_info"],
        seq_start=clone_seq_start(clone_id),
    )
