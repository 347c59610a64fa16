"""Code execution backends for sandboxed code evaluation (the cookbook's ``tinker_cookbook.sandbox``).

``SandboxFusionClient`` talks to a SandboxFusion server over HTTP (standard library only);
``modal_sandbox.ModalSandbox`` runs commands in a Modal cloud sandbox and needs the ``modal`` package.
"""

from __future__ import annotations

from enum import Enum

from tinkerlite.sandbox.sandbox_interface import SandboxInterface, SandboxResult, SandboxTerminatedError
from tinkerlite.sandbox.sandboxfusion import SandboxFusionClient


class SandboxBackend(str, Enum):
    """Which backend a recipe's ``sandbox_backend`` option names (a ``StrEnum`` in the cookbook; 3.10 has none)."""

    SANDBOXFUSION = "sandboxfusion"
    MODAL = "modal"

    def __str__(self) -> str:
        return str(self.value)


__all__ = [
    "SandboxBackend",
    "SandboxFusionClient",
    "SandboxInterface",
    "SandboxResult",
    "SandboxTerminatedError",
]
