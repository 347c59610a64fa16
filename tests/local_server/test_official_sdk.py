"""Conformance tier: the official ``tinker`` SDK (0.38 and 0.25) drives the local server unchanged.

Each SDK version lives in a throwaway, torch-free venv created on first use by
``tests/official_env.py`` (under ``~/.cache/tinkerlite/official-venvs``) with ``pip install tinker==<version>``
(plus zstandard); later runs reuse it. The flow itself is ``official_flow.py``, run with the venv's
python and ``TINKER_BASE_URL`` pointing at an in-process server that forces chunking (2 datums per
chunk) and, in the zstd variants, compressed request bodies.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

import tinkerlite.local

from ..official_env import ensure_venv

pytestmark = [pytest.mark.official, pytest.mark.slow]

HERE = Path(__file__).parent


def venv_python(version: str) -> Path:
    """The official SDK (torch-free) with zstandard, in a throwaway venv shared with the other tiers."""
    py = ensure_venv(f"tinker-{version}-conformance", [f"tinker=={version}", "zstandard"])
    check = subprocess.run(
        [str(py), "-c", "import tinker, sys; print(tinker.__version__)"], capture_output=True, text=True
    )
    assert check.stdout.strip() == version, check
    torch = subprocess.run([str(py), "-c", "import torch"], capture_output=True)
    assert torch.returncode != 0, "the conformance venv must be torch-free"
    return py


@pytest.mark.parametrize(
    ("version", "zstd"),
    [
        ("0.38.0", False),
        ("0.38.0", True),
        ("0.25.0", False),
        ("0.25.0", True),
        ("0.24.1", False),  # the last SDK with the legacy JSON forward_backward and /api/v1/forward (§5.7)
    ],
    ids=["0.38-plain", "0.38-zstd", "0.25-plain", "0.25-zstd", "0.24-json"],
)
def test_official_sdk_full_flow(version: str, zstd: bool) -> None:
    py = venv_python(version)
    config = {"fwdbwd_max_chunk_len": 2, "proto_compress_fwdbwd": zstd}
    with tinkerlite.local.serve(client_config=config) as url:
        env = {
            **os.environ,
            "TINKER_BASE_URL": url,
            "TINKER_API_KEY": "tml-local-test",
            "TINKER_TELEMETRY": "0",
        }
        env.pop("PYTHONPATH", None)
        proc = subprocess.run(
            [str(py), str(HERE / "official_flow.py")], env=env, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0 and "FLOW OK" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-6000:]
        with urllib.request.urlopen(url + "/api/v1/_tinkerlite/stats", timeout=10) as r:
            stats = json.loads(r.read())
        facts = json.loads(proc.stdout.strip().splitlines()[-1])
        assert facts["sdk"] == version
        assert facts["loss1"] < facts["loss0"]
    # Prove which wire path ran: protobuf (zstd when asked) for 0.25+, legacy JSON for 0.24.
    if version == "0.24.1":
        assert stats.get("json_fwdbwd", 0) > 0 and stats.get("json_forward", 0) > 0, stats
    else:
        assert stats.get("proto_fwdbwd", 0) > 0 and stats.get("json_fwdbwd", 0) == 0, stats
        assert (stats.get("zstd_bodies", 0) == stats["proto_fwdbwd"]) if zstd else not stats.get("zstd_bodies"), stats
