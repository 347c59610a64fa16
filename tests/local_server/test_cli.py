"""``tinkerlite serve``: argument handling, bind policy, and a real start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tinkerlite.local.cli import build_parser, main


def test_parser_defaults() -> None:
    args = build_parser().parse_args([])
    assert args.host == "127.0.0.1" and args.api_key is None and args.state_dir is None


def test_refuses_public_bind_without_key(capsys: object) -> None:
    assert main(["--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "API key" in err


def test_bad_port() -> None:
    assert main(["--port", "70000"]) == 2


def test_serve_prints_url_and_serves(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinkerlite", "serve", "--port", "0", "--state-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.strip().startswith("export TINKER_BASE_URL="):
                break
        url = lines[-1].strip().split("=", 1)[1]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "/api/v1/healthz", timeout=10) as r:
            assert json.loads(r.read()) == {"status": "ok"}
        assert (tmp_path / "runs").is_dir()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.returncode == 0
