"""The protocol a pluggable code-execution sandbox implements, and its result record.

Tool-use environments program against :class:`SandboxInterface` so the backend (Modal, a local
container, a test double) can be swapped without touching the environment.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from tinkerlite.exceptions import SandboxError
from tinkerlite.utils.config import configclass, field

__all__ = ["SandboxInterface", "SandboxResource", "SandboxResult", "SandboxTerminatedError"]


@configclass
class SandboxResult:
    """What one sandbox operation produced: its output streams, exit code and backend metrics."""

    stdout: str
    stderr: str
    exit_code: int
    metrics: dict[str, Any] = field(default_factory=dict)


class SandboxTerminatedError(SandboxError):
    """The sandbox was terminated or died: the caller should make a new one rather than retry."""


@runtime_checkable
class SandboxInterface(Protocol):
    """A sandbox: run commands, read and write files, keep it alive, clean it up."""

    @property
    def sandbox_id(self) -> str:
        """The backend's identifier for this sandbox instance."""
        ...

    async def send_heartbeat(self, timeout: int = 30) -> None:
        """Keep the sandbox alive (a no-op where the backend has no heartbeat)."""
        ...

    async def run_command(
        self,
        command: str,
        workdir: str | None = None,
        timeout: int = 60,
        max_output_bytes: int | None = None,
    ) -> SandboxResult:
        """Run a shell command (``workdir=None``: the image's WORKDIR), output capped at ``max_output_bytes``."""
        ...

    async def read_file(self, path: str, max_bytes: int | None = None, timeout: int = 60) -> SandboxResult:
        """The file's content (at most ``max_bytes``) as ``stdout``."""
        ...

    async def write_file(
        self, path: str, content: str | bytes, executable: bool = False, timeout: int = 60
    ) -> SandboxResult:
        """Write ``content`` to ``path``, marking it executable when asked."""
        ...

    async def cleanup(self) -> None:
        """Release the sandbox."""
        ...


class SandboxResource:
    """Holds a sandbox for an environment and forwards its lifecycle calls."""

    def __init__(self, sandbox: SandboxInterface):
        self.sandbox: SandboxInterface = sandbox

    async def send_heartbeat(self, timeout: int = 30) -> None:
        await self.sandbox.send_heartbeat(timeout=timeout)

    async def cleanup(self) -> None:
        await self.sandbox.cleanup()
