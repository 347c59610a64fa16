from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import API_KEY, write_small_dataset

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_small_dataset(tmp_path / "data.jsonl", 40)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An in-process local server over HTTP with a persistent state dir: (url, state_dir)."""
    from tinkerlite.local import serve

    state = tmp_path / "state"
    with serve(api_key=API_KEY, state_dir=str(state)) as url:
        yield url, state


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``python -m tinkerlite serve`` in its own process, so killing a trainer never touches it."""
    state = tmp_path / "server-state"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinkerlite", "serve", "--port", "0", "--state-dir", str(state), "--api-key", API_KEY],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = None
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            url = m.group(1)
            break
    if url is None:
        proc.kill()
        pytest.fail(f"server did not start: {proc.communicate()[0]}")
    try:
        yield url, state
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env
