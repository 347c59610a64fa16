"""Modal cloud sandboxes (``ModalSandbox``, ``ModalSandboxPool``), conforming to ``SandboxInterface``.

Needs the ``modal`` package, loaded when a sandbox is created (``MissingExtraError`` naming the ``modal``
extra otherwise), so this module imports — and its helpers work — without it; the cookbook's module
raises ``ImportError`` at import instead. A Modal-side failure that means the sandbox is gone becomes
:class:`SandboxTerminatedError`; other command failures are a result with ``exit_code=-1``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import shlex
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

from tinkerlite._optional import require
from tinkerlite.exceptions import SandboxError
from tinkerlite.sandbox.sandbox_interface import SandboxResult, SandboxTerminatedError

__all__ = ["ModalSandbox", "ModalSandboxPool"]

logger = logging.getLogger(__name__)

_DEFAULT_CAP = 128 * 1024
_STDIN_CHUNK = 2 * 1024 * 1024


def _modal() -> Any:
    return require("modal", "Modal sandboxes (tinkerlite.sandbox.modal_sandbox)", extra="modal")


async def _read_stream_capped(stream: object, max_bytes: int) -> str:
    """Up to ``max_bytes`` of an async byte/str stream; the rest is drained so the process can exit."""
    kept = bytearray()
    it = cast(Any, stream)
    try:
        async for chunk in it:
            data = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
            room = max_bytes - len(kept)
            if room <= 0:
                break
            kept += data[:room]
    except UnicodeDecodeError:
        pass  # a decoding error inside Modal's stream: keep what arrived
    with contextlib.suppress(Exception):
        async for _ in it:
            pass
    return kept.decode("utf-8", errors="replace")


def _is_sandbox_terminated(e: BaseException) -> bool:
    """Whether ``e`` says the sandbox itself is gone (not just that a command failed)."""
    if type(e).__name__ == "NotFoundError":
        return True
    text = str(e).lower()
    return "terminated" in text or "died" in text or "not found" in text


_F = TypeVar("_F", bound=Callable[..., Coroutine[Any, Any, Any]])


def _cancellation_as_terminated(fn: _F) -> _F:
    """A cancellation coming from Modal (preemption) becomes ``SandboxTerminatedError``.

    ``CancelledError`` is a ``BaseException`` and would slip past rollout error handling and cancel the
    whole step; a cancellation of the calling task itself (``task.cancelling()``) still propagates.
    """

    @functools.wraps(fn)
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and getattr(task, "cancelling", lambda: 0)():
                raise
            raise SandboxTerminatedError(f"Modal sandbox call {fn.__name__} was cancelled") from None

    return cast(_F, wrapped)


class ModalSandbox:
    """One persistent Modal sandbox: ``sb = await ModalSandbox.create()``, then run/read/write, ``cleanup()``."""

    def __init__(
        self,
        timeout: int,
        image: Any,
        app: Any,
        sandbox: Any,
        max_stream_output_bytes: int = 128 * 1024,
    ) -> None:
        self._timeout = timeout
        self._image = image
        self._app = app
        self._sandbox = sandbox
        self._max_stream_output_bytes = max_stream_output_bytes

    @classmethod
    @_cancellation_as_terminated
    async def create(
        cls,
        app_name: str = "tinker-cookbook-runner",
        timeout: int = 600,
        image: Any | None = None,
        max_stream_output_bytes: int = 128 * 1024,
    ) -> ModalSandbox:
        """Create a sandbox in the Modal app ``app_name`` (created if missing)."""
        modal = _modal()
        image = image or modal.Image.debian_slim()
        app = await modal.App.lookup.aio(app_name, create_if_missing=True)
        sandbox = await modal.Sandbox.create.aio(app=app, image=image, timeout=timeout)
        return cls(
            timeout=timeout, image=image, app=app, sandbox=sandbox, max_stream_output_bytes=max_stream_output_bytes
        )

    @property
    def sandbox_id(self) -> str:
        return str(self._sandbox.object_id)

    @_cancellation_as_terminated
    async def send_heartbeat(self, timeout: int = 30) -> None:
        try:
            await asyncio.wait_for(self._sandbox.exec.aio("true"), timeout=timeout)
        except Exception as e:
            if _is_sandbox_terminated(e):
                raise SandboxTerminatedError(str(e)) from e
            raise

    async def _collect(self, proc: Any, cap: int) -> SandboxResult:
        stdout, stderr, code = await asyncio.gather(
            _read_stream_capped(proc.stdout, cap), _read_stream_capped(proc.stderr, cap), proc.wait.aio()
        )
        return SandboxResult(stdout=stdout, stderr=stderr, exit_code=int(code))

    @_cancellation_as_terminated
    async def run_command(
        self,
        command: str,
        workdir: str | None = None,
        timeout: int = 60,
        max_output_bytes: int | None = None,
    ) -> SandboxResult:
        """Run ``command`` under ``bash -lc``; output capped per stream."""
        cap = self._max_stream_output_bytes if max_output_bytes is None else max_output_bytes
        try:
            proc = await self._sandbox.exec.aio("bash", "-lc", command, timeout=timeout, workdir=workdir)
            return await self._collect(proc, cap)
        except Exception as e:
            if _is_sandbox_terminated(e):
                raise SandboxTerminatedError(str(e)) from e
            return SandboxResult(stdout="", stderr=str(e), exit_code=-1)

    @_cancellation_as_terminated
    async def read_file(self, path: str, max_bytes: int | None = None, timeout: int = 60) -> SandboxResult:
        """The file's content as ``stdout`` (``head -c`` when ``max_bytes`` is given)."""
        quoted = shlex.quote(path)
        cmd = f"cat {quoted}" if max_bytes is None else f"head -c {int(max_bytes)} {quoted}"
        return await self.run_command(cmd, timeout=timeout)

    @_cancellation_as_terminated
    async def write_file(
        self,
        path: str,
        content: str | bytes = "",
        executable: bool = False,
        timeout: int = 60,
    ) -> SandboxResult:
        """Write ``content`` through the process's stdin in 2 MiB chunks (parents created)."""
        data = content.encode() if isinstance(content, str) else content
        quoted = shlex.quote(path)
        cmd = f"mkdir -p {shlex.quote(os.path.dirname(path))} && cat > {quoted}"
        if executable:
            cmd += f" && chmod +x {quoted}"
        try:
            proc = await self._sandbox.exec.aio("bash", "-lc", cmd, timeout=timeout)
            for start in range(0, len(data), _STDIN_CHUNK):
                chunk = data[start : start + _STDIN_CHUNK]
                try:
                    proc.stdin.write(chunk)
                except TypeError:  # a text-mode stdin
                    proc.stdin.write(chunk.decode("utf-8", errors="replace"))
                await proc.stdin.drain.aio()
            proc.stdin.write_eof()
            await proc.stdin.drain.aio()
            return await self._collect(proc, self._max_stream_output_bytes)
        except Exception as e:
            if _is_sandbox_terminated(e):
                raise SandboxTerminatedError(str(e)) from e
            return SandboxResult(stdout="", stderr=str(e), exit_code=-1)

    @_cancellation_as_terminated
    async def cleanup(self) -> None:
        """Terminate the sandbox and wait until it has shut down."""
        modal = _modal()
        await self._sandbox.terminate.aio()
        with contextlib.suppress(modal.exception.SandboxTimeoutError):
            await self._sandbox.wait.aio(raise_on_termination=False)


class ModalSandboxPool:
    """Warm Modal sandboxes, one request each then replaced (``MODAL_POOL_SIZE``, ``MODAL_CREATION_RATE_LIMIT``).

    Must be constructed inside a running event loop: it starts its maintenance task at once.
    """

    def __init__(
        self,
        *,
        pool_size: int | None = None,
        sandbox_timeout_secs: int = 1200,
        image: Any | None = None,
        app_name: str = "tinker-cookbook-runner",
    ):
        _modal()  # fail here, naming the extra, rather than in the background task
        self._pool_size = pool_size or int(os.getenv("MODAL_POOL_SIZE", "32"))
        self._creation_rate_limit = int(os.getenv("MODAL_CREATION_RATE_LIMIT", "4"))
        self._sandbox_timeout_secs = sandbox_timeout_secs
        self._image = image
        self._app_name = app_name
        self._terminated = False
        self._warm_pool: asyncio.Queue[ModalSandbox] = asyncio.Queue()
        self._to_terminate: list[ModalSandbox] = []
        self._active_count = 0
        self._maintainer = asyncio.get_running_loop().create_task(self._maintain_pool())

    async def _create(self) -> ModalSandbox:
        return await ModalSandbox.create(app_name=self._app_name, timeout=self._sandbox_timeout_secs, image=self._image)

    async def _maintain_pool(self) -> None:
        while not self._terminated:
            try:
                await self._maintain_pool_step()
            except Exception as e:
                logger.error("Error maintaining ModalSandboxPool: %s", e)
            await asyncio.sleep(1.0)

    async def _maintain_pool_step(self) -> None:
        """Terminate used sandboxes, then create up to the rate limit to refill the pool."""
        if self._to_terminate:
            done, self._to_terminate = self._to_terminate, []
            await asyncio.gather(*(sb.cleanup() for sb in done))
        need = min(self._creation_rate_limit, self._pool_size - self._warm_pool.qsize() - self._active_count)
        if need <= 0:
            return
        for made in await asyncio.gather(*(self._create() for _ in range(need)), return_exceptions=True):
            if isinstance(made, BaseException):
                logger.error("Error creating Modal sandbox: %s", made)
            else:
                await self._warm_pool.put(made)

    async def run_in_workdir(
        self,
        files: dict[str, str],
        command: list[str],
        timeout: int | None = None,
    ) -> SandboxResult:
        """Run ``command`` in a fresh workdir holding ``files``, on a sandbox borrowed from the pool."""
        if self._terminated:
            raise SandboxError("ModalSandboxPool has been terminated.")
        sandbox = await self._warm_pool.get()
        self._active_count += 1
        try:
            workdir = f"/workspace/{uuid.uuid4().hex[:12]}"
            made = await sandbox.run_command(f"mkdir -p {shlex.quote(workdir)}", timeout=timeout or 60)
            if made.exit_code != 0:
                return SandboxResult(stdout="", stderr=f"Failed to create workdir: {workdir}", exit_code=made.exit_code)
            if files:
                await asyncio.gather(*(sandbox.write_file(f"{workdir}/{n}", c) for n, c in files.items()))
            return await sandbox.run_command(
                shlex.join(command), workdir=workdir, timeout=timeout or self._sandbox_timeout_secs
            )
        finally:
            self._active_count -= 1
            self._to_terminate.append(sandbox)

    async def terminate(self) -> None:
        """Stop the pool and terminate every sandbox, waiting for the ones in use."""
        self._terminated = True
        while self._active_count > 0:
            await asyncio.sleep(0.5)
        everything = list(self._to_terminate)
        self._to_terminate = []
        while not self._warm_pool.empty():
            everything.append(self._warm_pool.get_nowait())
        await asyncio.gather(*(sb.cleanup() for sb in everything))
