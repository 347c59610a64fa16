"""The optimizer wire, byte for byte against the official SDK 0.38's own pydantic models.

The SDK's resources serialise a request with ``model_dump(request, exclude_unset=False, exclude_none=True,
mode="json")``; the same dump is run in a throwaway venv holding ``tinker==0.38.0`` and compared, as JSON
text (so key order counts), with what tinkerlite's records produce.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tinkerlite import types
from tinkerlite.types.create_model_request import CreateModelRequest
from tinkerlite.types.optim_step_request import OptimStepRequest

_SDK_SCRIPT = r"""
import json
from tinker import types
from tinker._compat import model_dump

def dump(m):
    return json.dumps(model_dump(m, exclude_unset=False, exclude_none=True, mode="json"))

out = {
    "adam": dump(types.OptimStepRequest(
        optim_params=types.AdamParams(learning_rate=0.001, weight_decay=0.01), model_id="m", seq_id=4)),
    "dimuon": dump(types.OptimStepRequest(
        optim_params=types.DimuonParams(learning_rate=0.02, beta1=0.8), model_id="m", seq_id=5)),
    "create_dimuon": dump(types.CreateModelRequest(
        session_id="s", model_seq_id=0, base_model="B", lora_config=types.LoraConfig(rank=8),
        optimizer_config=types.DimuonOptimizerConfig())),
    "create_default": dump(types.CreateModelRequest(session_id="s", model_seq_id=0, base_model="B")),
    "dimuon_config": dump(types.DimuonOptimizerConfig()),
    "adam_config": dump(types.AdamOptimizerConfig()),
}
print(json.dumps(out))
"""


def _ours() -> dict[str, str]:
    def dump(obj: object) -> str:
        return json.dumps(obj.to_json())  # type: ignore[attr-defined]

    return {
        "adam": dump(
            OptimStepRequest(
                optim_params=types.AdamParams(learning_rate=0.001, weight_decay=0.01), model_id="m", seq_id=4
            )
        ),
        "dimuon": dump(
            OptimStepRequest(optim_params=types.DimuonParams(learning_rate=0.02, beta1=0.8), model_id="m", seq_id=5)
        ),
        "create_dimuon": dump(
            CreateModelRequest(
                session_id="s",
                model_seq_id=0,
                base_model="B",
                lora_config=types.LoraConfig(rank=8),
                optimizer_config=types.DimuonOptimizerConfig(),
            )
        ),
        "create_default": dump(CreateModelRequest(session_id="s", model_seq_id=0, base_model="B")),
        "dimuon_config": dump(types.DimuonOptimizerConfig()),
        "adam_config": dump(types.AdamOptimizerConfig()),
    }


@pytest.mark.official
@pytest.mark.network_registry
def test_optimizer_requests_serialise_as_the_sdk_does() -> None:
    from tests.official_env import official_sdk_python

    python = official_sdk_python("0.38.0")
    proc = subprocess.run([str(python), "-c", _SDK_SCRIPT], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    theirs = json.loads(proc.stdout)
    ours = _ours()
    for key in theirs:
        assert ours[key] == theirs[key], f"{key}: ours {ours[key]} != sdk {theirs[key]}"
