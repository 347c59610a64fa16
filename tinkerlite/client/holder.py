"""The shared engine behind every client: event loop thread, HTTP with both retry layers, futures,
start-up handshake, session and heartbeat.

Orchestration (ordering, retries, polling) runs as coroutines on one private event loop thread;
every blocking HTTP exchange runs on a worker thread from a bounded pool, so neither the caller's
event loop nor the private one ever blocks on a socket.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextvars
import json
import logging
import os
import random
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    ResponseInfo,
    TinkerError,
    make_status_error,
)
from . import headers as hdr
from ._holder_retries import _SDK_METHOD, _HolderRetries
from .background import HEARTBEAT_PERIOD_S, LoopThread, heartbeat_loop
from .budget import BUDGET, RetryBudget, refused_defaults, without_dropped
from .config import (
    SDK_VERSION,
    BaseURL,
    ClientConfig,
    Credential,
    DynamicConfig,
    resolve_base_url,
    resolve_credential,
    resolve_unreachable_timeout,
    tags_from_env,
)
from .futures_protocol import Done, FuturePoll, Raise, Repoll
from .retry import (
    HTTP_MAX_RETRIES,
    BillingPause,
    http_retry_delay,
    http_should_retry,
    resolve_retry_budget,
)
from .sequencing import IdCounter
from .transport import PooledTransport, Transport, call_with_sent_hook

if TYPE_CHECKING:
    from ..codec.body import Body

logger = logging.getLogger("tinkerlite.client")

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_TIMEOUT_S = 60.0
JWT_REFRESH_MARGIN_S = 60.0
DEFAULT_IO_WORKERS = 256

#: Set by ordered submissions: called (from a worker thread) once the request is on the wire.
ON_SENT: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar("tinkerlite_on_sent", default=None)


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, without verifying it (the server does that); ``{}`` when unreadable."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (IndexError, ValueError, TypeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _jwt_expiry(token: str) -> float | None:
    """``exp`` claim of a JWT."""
    exp = jwt_claims(token).get("exp")
    return float(exp) if isinstance(exp, (int, float)) else None


class Holder(_HolderRetries):
    """One per ServiceClient (sessionful) or RestClient (session-less)."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        user_metadata: Mapping[str, str] | None = None,
        project_id: str | None = None,
        display_name: str | None = None,
        default_headers_overrides: Mapping[str, str] | None = None,
        skip_session: bool = False,
        unreachable_timeout: float | None = None,
        transport: Transport | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Sleep | None = None,
        rng: Callable[[], float] = random.random,
        heartbeat_period_s: float = HEARTBEAT_PERIOD_S,
        holder_budget_s: float | None = None,
        io_workers: int = DEFAULT_IO_WORKERS,
        preset_session_id: str | None = None,
        preset_client_config: ClientConfig | None = None,
    ) -> None:
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.base: BaseURL = resolve_base_url(base_url, self.env)
        self.credential: Credential = resolve_credential(api_key, self.env)
        self.unreachable_timeout = resolve_unreachable_timeout(unreachable_timeout, self.env)
        self.user_metadata = dict(user_metadata or {})
        self.project_id = project_id
        self.display_name = display_name
        self.skip_session = skip_session
        self.transport: Transport = transport or PooledTransport()
        self._owns_transport = transport is None
        self.clock = clock
        self.wall = wall
        self.rng = rng
        self._sleep: Sleep = sleep or asyncio.sleep
        self.heartbeat_period_s = heartbeat_period_s
        self.holder_budget_s = resolve_retry_budget(holder_budget_s, self.env)
        self._default_headers = hdr.default_headers(self.env, default_headers_overrides)
        self.billing = BillingPause()
        self.client_config = ClientConfig()
        self.dynamic_config = DynamicConfig()
        self.session_id: str | None = None
        # Per-session counters (§6.3).
        self.model_seq_ids = IdCounter()
        self.sampling_session_seq_ids = IdCounter()
        self.custom_loss_seq_ids = IdCounter()
        # Reachability, for the fail-fast bound.
        self._reachable = False
        # Official-SDK submission order (wait for each POST's response before the next) on request;
        # by default the next ordered submission goes out once the previous one is on the wire.
        self.strict_submit_order = os.environ.get("TINKERLITE_STRICT_SUBMIT_ORDER", "") not in ("", "0", "false")
        self._first_attempt_at: float | None = None
        self._jwt: str | None = None
        self._jwt_exp: float | None = None
        self._cred_cache: str | None = None
        self._auth_lock = threading.Lock()
        self.sample_backoff_until: float | None = None
        self._io = concurrent.futures.ThreadPoolExecutor(io_workers, thread_name_prefix="tinkerlite-io")
        self._loop_thread = LoopThread()
        self.loop = self._loop_thread.loop
        self._started: concurrent.futures.Future[None] | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self._heartbeat_stop = threading.Event()
        self._heartbeat_thread: threading.Thread | None = None
        self.last_heartbeat_ok: float | None = None
        if preset_client_config is not None:
            # A shadow holder (unpickled sampling client): the session already exists elsewhere.
            self.client_config = preset_client_config
            self.session_id = preset_session_id
            self._started = concurrent.futures.Future()
            self._started.set_result(None)

    def __repr__(self) -> str:
        return f"Holder(base_url={self.base.url!r}, session_id={self.session_id!r}, credential={self.credential!r})"

    # ---- loop plumbing ----------------------------------------------------------------------------

    def run(self, coro: Coroutine[Any, Any, T], sdk_method: str | None = None) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the holder loop (after start-up) and return a thread-safe future."""
        if self._closed:
            coro.close()
            raise TinkerError("this client is closed")

        async def wrapped() -> T:
            if sdk_method is not None:
                _SDK_METHOD.set(sdk_method)
            try:
                await self.ensure_started()
            except BaseException:
                coro.close()
                raise
            return await coro

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop)

    def on_loop_thread(self) -> bool:
        return threading.current_thread() is self._loop_thread.thread

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await self._sleep(seconds)

    # ---- start-up -----------------------------------------------------------------------------------

    async def ensure_started(self) -> None:
        with self._start_lock:
            if self._started is None:
                fut: concurrent.futures.Future[None] = concurrent.futures.Future()
                self._started = fut
                owner = True
            else:
                fut = self._started
                owner = False
        if owner:
            token = _SDK_METHOD.set(None)  # start-up requests belong to no public method
            try:
                await self._start()
            except BaseException as e:
                _SDK_METHOD.reset(token)
                fut.set_exception(e)
                with self._start_lock:
                    self._started = None  # a later call may try again
                raise
            _SDK_METHOD.reset(token)
            fut.set_result(None)
            return
        await asyncio.wrap_future(fut)

    async def _start(self) -> None:
        raw = await self.execute_with_retries(
            lambda: self.post_json("/api/v1/client/config", {"sdk_version": SDK_VERSION}, use_jwt=False)
        )
        self.client_config = ClientConfig.from_json(raw if isinstance(raw, dict) else {})
        self.billing.max_pause_s = self.client_config.billing_exception_max_pause_duration_sec
        if self.client_config.pjwt_auth_enabled:
            await self._refresh_jwt()
        try:
            dyn = await self.execute_with_retries(
                lambda: self.post_json(
                    "/api/v1/client/dynamic_config", {"sdk_version": SDK_VERSION}, timeout=10, max_retries=0
                )
            )
            self.dynamic_config = DynamicConfig.from_json(dyn if isinstance(dyn, dict) else {})
        except APIStatusError as e:
            if e.status_code != 404:
                raise
        if not self.skip_session:
            body: dict[str, Any] = {
                "tags": tags_from_env(self.env),
                "user_metadata": self.user_metadata,
                "sdk_version": SDK_VERSION,
            }
            if self.project_id is not None:
                body["project_id"] = self.project_id
            if self.display_name is not None:
                body["display_name"] = self.display_name
            body["type"] = "create_session"
            resp = await self.post_json("/api/v1/create_session", body)
            if not isinstance(resp, dict) or not isinstance(resp.get("session_id"), str):
                raise TinkerError("create_session returned no session_id")
            for key, level in (
                ("info_message", logging.INFO),
                ("warning_message", logging.WARNING),
                ("error_message", logging.ERROR),
            ):
                if resp.get(key):
                    logger.log(level, "%s", resp[key])
            self.session_id = resp["session_id"]
            self._start_heartbeat()

    # ---- auth ---------------------------------------------------------------------------------------

    def _raw_credential(self) -> str:
        with self._auth_lock:
            if self._cred_cache is not None:
                exp = _jwt_expiry(self._cred_cache) if self._cred_cache.startswith("eyJ") else None
                if exp is None or exp - self.wall() > JWT_REFRESH_MARGIN_S:
                    return self._cred_cache
            self._cred_cache = self.credential.get()
            return self._cred_cache

    def _auth_value(self, use_jwt: bool = True) -> str:
        if use_jwt and self._jwt is not None:
            return self._jwt
        return self._raw_credential()

    async def _refresh_jwt(self) -> None:
        self._jwt = None
        resp = await self.execute_with_retries(lambda: self.post_json("/api/v1/auth/token", {}, use_jwt=False))
        jwt = resp.get("jwt") if isinstance(resp, dict) else None
        if not isinstance(jwt, str) or not jwt:
            raise TinkerError("auth/token returned no jwt")
        self._jwt, self._jwt_exp = jwt, _jwt_expiry(jwt)

    async def identity_jwt(self) -> str | None:
        """A JWT carrying the caller's identity claims, if one is at hand (``RestClient.whoami``): the
        exchanged token when the server enables JWT auth, or a Tinker-issued JWT given as the credential."""
        await self.ensure_started()
        if self.client_config.pjwt_auth_enabled:
            if self._jwt is None:
                await self._refresh_jwt()
            return self._jwt
        raw = self._raw_credential()
        if raw.startswith("eyJ") and str(jwt_claims(raw).get("iss", "")).startswith("passport-"):
            return raw
        return None

    def auth_hint(self) -> str:
        return (
            f"The credential came from {self.credential.source} and was sent as X-API-Key to "
            f"{self.base.url} (set by {self.base.source}); check that it is valid for that server."
        )

    # ---- HTTP layer ---------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base.url + path

    def build_headers(
        self,
        method: str,
        *,
        idempotency_key: str,
        retry_count: int,
        timeout: float,
        content_type: str | None,
        extra: Mapping[str, str] | None,
        use_jwt: bool,
    ) -> dict[str, str]:
        headers = dict(self._default_headers)
        if content_type is None:
            headers.pop("Content-Type", None)
        else:
            headers["Content-Type"] = content_type
        headers.update(
            hdr.call_headers(
                method=method,
                idempotency_key=idempotency_key,
                retry_count=retry_count,
                read_timeout=timeout,
                sdk_method=_SDK_METHOD.get(),
            )
        )
        headers.update(extra or {})
        headers["X-API-Key"] = self._auth_value(use_jwt)
        return headers

    async def _on_io(self, fn: Callable[..., ResponseInfo], *args: Any) -> ResponseInfo:
        """Run one blocking exchange on the I/O pool; once the client is closed, the call is cancelled.

        After ``shutdown`` (close, or Ctrl-C) work still unwinding on the loop must not raise
        "cannot schedule new futures after shutdown" from a task nobody awaits any more: asyncio would
        print it as "Task exception was never retrieved" at exit. A cancellation ends such a task quietly.
        """
        if self._closed:
            raise asyncio.CancelledError("client closed")
        try:
            return await self.loop.run_in_executor(self._io, fn, *args)
        except RuntimeError:
            if self._closed:
                raise asyncio.CancelledError("client closed") from None
            raise

    async def send_once(
        self,
        method: str,
        path: str,
        body: bytes | Body | None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        content_type: str | None = hdr.JSON,
        extra_headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        retry_count: int = 0,
        use_jwt: bool = True,
    ) -> ResponseInfo:
        """One exchange on a worker thread; returns any HTTP response, raises on no response."""
        if self._jwt is not None and use_jwt and self._jwt_exp is not None:
            if self._jwt_exp - self.wall() <= JWT_REFRESH_MARGIN_S:
                await self._refresh_jwt()
        headers = self.build_headers(
            method,
            idempotency_key=idempotency_key or hdr.new_idempotency_key(),
            retry_count=retry_count,
            timeout=timeout,
            content_type=content_type if body is not None or method != "GET" else None,
            extra=extra_headers,
            use_jwt=use_jwt,
        )
        if self._first_attempt_at is None:
            self._first_attempt_at = self.clock()
        if not self._reachable:
            # Fail fast covers silent servers too: connect + first byte within what is left of the bound.
            timeout = max(0.05, min(timeout, self._first_attempt_at + self.unreachable_timeout - self.clock()))
        on_sent = ON_SENT.get()
        if on_sent is None:
            resp = await self._on_io(self.transport.request, method, self.url(path), headers, body, timeout)
        else:
            resp = await self._on_io(
                call_with_sent_hook, on_sent, self.transport.request, method, self.url(path), headers, body, timeout
            )
            on_sent()  # transports without the hook (test fakes): the response proves it was sent
        self._reachable = True
        return resp

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | Body | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = HTTP_MAX_RETRIES,
        content_type: str | None = hdr.JSON,
        extra_headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        use_jwt: bool = True,
    ) -> ResponseInfo:
        """HTTP layer (§4.1): retries with the same idempotency key; returns a 2xx or raises."""
        key = idempotency_key or hdr.new_idempotency_key()
        budget = BUDGET.get() or RetryBudget(self.clock() + self.holder_budget_s, self.holder_budget_s)
        replayed_auth = False
        retries = 0
        while True:
            remaining = budget.deadline - self.clock()
            try:
                resp = await self.send_once(
                    method,
                    path,
                    body,
                    timeout=max(0.05, min(timeout, remaining)),
                    content_type=content_type,
                    extra_headers=extra_headers,
                    idempotency_key=key,
                    retry_count=retries,
                    use_jwt=use_jwt,
                )
            except APIConnectionError as e:
                self.check_unreachable(e)
                budget.failed(self.wall())
                if retries >= max_retries:
                    raise
                if self.clock() >= budget.deadline:
                    raise self.budget_error(e, budget, path) from None
                delay = self._bounded(http_retry_delay(retries, {}, now=self.wall(), rng=self.rng))
                await self.sleep(min(delay, budget.deadline - self.clock()))
                retries += 1
                continue
            if 200 <= resp.status_code < 300:
                return resp
            if (
                resp.status_code == 401
                and self._jwt is not None
                and use_jwt
                and not replayed_auth
                and 'error="invalid_token"' in resp.headers.get("www-authenticate", "")
            ):
                replayed_auth = True
                await self._refresh_jwt()
                continue
            if retries < max_retries and http_should_retry(resp.status_code, resp.headers):
                budget.failed(self.wall())
                if self.clock() >= budget.deadline:
                    raise self.budget_error(make_status_error(resp), budget, path) from None
                delay = http_retry_delay(retries, resp.headers, now=self.wall(), rng=self.rng)
                await self.sleep(min(delay, max(0.0, budget.deadline - self.clock())))
                retries += 1
                continue
            hint = self.auth_hint() if resp.status_code in (401, 403) else None
            raise make_status_error(resp, hint=hint)

    async def post_json(
        self,
        path: str,
        obj: Any,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = HTTP_MAX_RETRIES,
        extra_headers: Mapping[str, str] | None = None,
        use_jwt: bool = True,
    ) -> Any:
        body = json.dumps(obj, allow_nan=False, separators=(",", ":")).encode()
        resp = await self.request(
            "POST",
            path,
            body,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            use_jwt=use_jwt,
        )
        return self.decode_json(resp)

    async def post_json_compat(self, path: str, obj: dict[str, Any], defaults: Mapping[str, Any]) -> Any:
        """``post_json`` for servers of an older protocol revision: a 422 that names a field of ``defaults``
        holding its default value (tuft answers so to ``optimizer_config``, which SDK 0.25 never sent)
        is retried once without it, and this server gets it dropped from then on (remembered per URL)."""
        body = without_dropped(self.base.url, obj, defaults)
        try:
            return await self.post_json(path, body)
        except APIStatusError as e:
            names = refused_defaults(self.base.url, body, defaults, e.response.text) if e.status_code == 422 else []
            if not names:
                raise
            logger.info("%s refused %s (an older protocol revision): sending without it", self.base.url, names)
            return await self.post_json(path, {k: v for k, v in body.items() if k not in names})

    async def call_json(self, method: str, path: str, obj: Any = None, *, timeout: float = DEFAULT_TIMEOUT_S) -> Any:
        body = None if obj is None else json.dumps(obj, allow_nan=False, separators=(",", ":")).encode()
        resp = await self.request(method, path, body, timeout=timeout, content_type=hdr.JSON)
        return self.decode_json(resp)

    @staticmethod
    def decode_json(resp: ResponseInfo) -> Any:
        if not resp.content or resp.status_code == 204:
            return None
        from .._exceptions import APIResponseValidationError

        try:
            return json.loads(resp.content)
        except (ValueError, UnicodeDecodeError):
            raise APIResponseValidationError(
                resp, resp.text[:200], message=f"Expected a JSON body from {resp.request}, got something else"
            ) from None

    # ---- futures --------------------------------------------------------------------------------------

    async def wait_future(
        self, request_id: str, request_type: str, want_proto: bool, roundtrip_s: float | None = None
    ) -> Done:
        """Drive the §3.2 state machine until the result is there."""
        poll = FuturePoll(
            request_id,
            request_type,
            want_proto,
            billing=self.billing,
            roundtrip_s=roundtrip_s,
            auth_hint=self.auth_hint(),
            budget_s=self.holder_budget_s,
            url=self.base.url,
            wall=self.wall,
        )
        while True:
            req = poll.next_request(self.clock())
            body = json.dumps(req.body, separators=(",", ":")).encode()
            sent_at = self.clock()
            try:
                resp = await self.send_once("POST", req.path, body, timeout=req.timeout, extra_headers=req.headers)
            except APIConnectionError as e:
                action = poll.on_transport_error(e, self.clock(), sent_at)
            else:
                now = self.clock()
                action = poll.on_response(resp.status_code, resp.headers, resp.content, now, elapsed=now - sent_at)
            if isinstance(action, Repoll):
                await self.sleep(action.delay)
                continue
            if isinstance(action, Raise):
                raise action.error
            return action

    # ---- session heartbeat ------------------------------------------------------------------------------

    def _start_heartbeat(self) -> None:
        if self.heartbeat_period_s <= 0 or self._heartbeat_thread is not None:
            return
        self.last_heartbeat_ok = self.clock()
        t = threading.Thread(target=heartbeat_loop, args=(self,), name="tinkerlite-heartbeat", daemon=True)
        self._heartbeat_thread = t
        t.start()

    # ---- close --------------------------------------------------------------------------------------------

    async def finish_session(self, status: str, detail: str | None) -> None:
        if self.session_id is None:
            return
        self._heartbeat_stop.set()
        await self.execute_with_retries(
            lambda: self.post_json(
                f"/api/v1/sessions/{self.session_id}/finish",
                {"reason": {"type": status}, "detail": detail},
            )
        )

    def shutdown(self) -> None:
        """Stop background threads and drop connections (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._heartbeat_stop.set()
        self._loop_thread.stop()
        self._io.shutdown(wait=False, cancel_futures=True)
        if self._owns_transport:
            self.transport.close()
