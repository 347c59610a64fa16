"""The cookbook's own ``weights.download`` (0.6.1, unmodified) against the local server, with the official SDK.

Runs in a throwaway torch-free venv with ``tinker==0.38.0`` and ``pyrage``: the SDK's ``save_weights_external``
(encrypted to a pyrage key), ``get_external_weights_urls``, TTL renewal and delete all go to tinkerlite's
server, and the files it writes are byte-identical to what ``tinkerlite.weights.download`` writes. The
cookbook's ``weights/__init__`` imports torch, so only ``exceptions.py`` and ``weights/_download.py`` are
copied from the sdist (unchanged) into a package skeleton.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")

import tinkerlite as tinker
from tinkerlite import types, weights
from tinkerlite.local import serve

from ..official_env import ensure_venv, official_source

pytestmark = [pytest.mark.official, pytest.mark.slow, pytest.mark.network_registry]

KEY = "tml-official-download"


def _cookbook_skeleton(dest: Path) -> Path:
    src = official_source("cookbook") / "tinker_cookbook"
    pkg = dest / "tinker_cookbook"
    (pkg / "weights").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "weights" / "__init__.py").write_text("")
    shutil.copy(src / "exceptions.py", pkg / "exceptions.py")
    shutil.copy(src / "weights" / "_download.py", pkg / "weights" / "_download.py")
    return dest


def test_cookbook_download_against_the_local_server(tmp_path: Path) -> None:
    py = ensure_venv("tinker-0.38.0-weights", ["tinker==0.38.0", "pyrage==1.3.0"])
    root = _cookbook_skeleton(tmp_path / "cookbook")
    with serve(api_key=KEY, state_dir=str(tmp_path / "state")) as url:
        sc = tinker.ServiceClient(base_url=url, api_key=KEY)
        tc = sc.create_lora_training_client(base_model="Qwen/Qwen3-8B", rank=2).result(timeout=120)
        datum = types.Datum(
            model_input=types.ModelInput.from_ints([9707, 1879, 151645]),
            loss_fn_inputs={"target_tokens": [1879, 151645, 151643]},
        )
        tc.forward_backward([datum], "cross_entropy")
        tc.optim_step(types.AdamParams(learning_rate=1e-2)).result(timeout=120)
        path = tc.save_state("final").result(timeout=120).path
        env = {**os.environ, "TINKER_BASE_URL": url, "TINKER_API_KEY": KEY, "TINKER_TELEMETRY": "0",
               "PYTHONPATH": str(root)}  # fmt: skip
        script = (
            "import sys\nfrom tinker_cookbook.weights._download import download\n"
            "print(download(tinker_path=sys.argv[1], output_dir=sys.argv[2]))\n"
        )
        theirs = tmp_path / "theirs"
        run = subprocess.run(
            [str(py), "-c", script, path, str(theirs)], env=env, capture_output=True, text=True, timeout=300
        )
        assert run.returncode == 0, run.stderr[-3000:]
        ours = tmp_path / "ours"
        os.environ["TINKER_API_KEY"] = KEY
        try:
            weights.download(tinker_path=path, output_dir=str(ours), base_url=url)
        finally:
            del os.environ["TINKER_API_KEY"]
        names = sorted(p.name for p in theirs.iterdir())
        assert names == ["adapter_config.json", "adapter_model.safetensors"]
        assert names == sorted(p.name for p in ours.iterdir())
        for name in names:
            assert (theirs / name).read_bytes() == (ours / name).read_bytes(), name
        # Both temporary exports were deleted again.
        rc = tinker.RestClient(base_url=url, api_key=KEY)
        kinds = [c.checkpoint_type for c in rc.list_user_checkpoints().result(timeout=60).checkpoints]
        assert "external" not in kinds
        rc.close()
        sc.close()


def test_sdk_0_25_archive_url(tmp_path: Path) -> None:
    """SDK 0.25's ``get_checkpoint_archive_url_from_tinker_path`` gets a tar of the adapter from the local server."""
    py = ensure_venv("tinker-0.25.0-conformance", ["tinker==0.25.0", "zstandard"])
    with serve(api_key=KEY, state_dir=str(tmp_path / "state")) as url:
        sc = tinker.ServiceClient(base_url=url, api_key=KEY)
        tc = sc.create_lora_training_client(base_model="meta-llama/Llama-3.2-1B", rank=2).result(timeout=120)
        path = tc.save_state("final").result(timeout=120).path
        env = {**os.environ, "TINKER_BASE_URL": url, "TINKER_API_KEY": KEY, "TINKER_TELEMETRY": "0"}
        script = (
            "import sys, tarfile, urllib.request, tinker\n"
            "rc = tinker.ServiceClient().create_rest_client()\n"
            "resp = rc.get_checkpoint_archive_url_from_tinker_path(sys.argv[1]).result()\n"
            "urllib.request.urlretrieve(resp.url, sys.argv[2])\n"
            "print(sorted(tarfile.open(sys.argv[2]).getnames()))\n"
        )
        run = subprocess.run(
            [str(py), "-c", script, path, str(tmp_path / "a.tar")], env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.stdout.strip().splitlines()[-1] == "['adapter_config.json', 'adapter_model.safetensors']"
        sc.close()
