"""Harness for running the official cookbook's own recipe files, imports rewritten, against ``tinkerlite serve``.

Each test fetches the cookbook 0.6.1 sdist (``official_source``), applies only ``rewrite_imports`` to one
recipe file, writes it to a temporary directory and runs it in a subprocess with small ``key=value``
overrides. The environment stand-ins are the ones the port allows: ``chz`` (installed with the test
extra) and the ``datasets`` stand-in in ``standins/`` (small tables in the hub datasets' row shapes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.official_env import official_source, rewrite_imports

REPO = Path(__file__).resolve().parents[2]
STANDINS = Path(__file__).resolve().parent / "standins"
API_KEY = "tml-recipes-ported"
MODEL = "tinkerlite/tiny-chat"


class Server:
    def __init__(self, url: str, api_key: str) -> None:
        self.url = url
        self.api_key = api_key


@pytest.fixture(scope="session")
def cookbook_recipes() -> Path:
    return official_source("cookbook") / "tinker_cookbook" / "recipes"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``tinkerlite serve`` on a free loopback port, for the whole session."""
    state = tmp_path_factory.mktemp("serve-state")
    log = state / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tinkerlite", "serve", "--port", "0", "--api-key", API_KEY,
             "--state-dir", str(state / "data")],
            stdout=out, stderr=subprocess.STDOUT, text=True, env=env,
        )
    try:
        url = None
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            for line in log.read_text().splitlines():
                if line.strip().startswith("export TINKER_BASE_URL="):
                    url = line.strip().split("=", 1)[1]
            time.sleep(0.2)
        if url is None:
            raise RuntimeError(f"tinkerlite serve did not start:\n{log.read_text()[-3000:]}")
        yield Server(url, API_KEY)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def port_recipe(recipes: Path, rel: str, dest: Path) -> Path:
    """The recipe file with ONLY the import rewrite applied, written under ``dest``."""
    src = recipes / rel
    out = dest / ("ported_" + rel.replace("/", "__"))
    out.write_text(rewrite_imports(src.read_text()))
    return out


def run_recipe(
    script: Path, args: list[str], server: Server, tmp: Path, timeout: float = 600, env: dict[str, str] | None = None,
    ok: tuple[int, ...] = (0,), python: str | None = None,
) -> str:
    """Run the ported script (with ``python``, default this interpreter); on failure the assertion message
    carries the last output lines."""
    env = {
        **os.environ,
        **(env or {}),
        "PYTHONPATH": os.pathsep.join([str(STANDINS), str(REPO)]),
        "TINKER_BASE_URL": server.url,
        "TINKER_API_KEY": server.api_key,
        "TINKER_COOKBOOK_RUNS_DIR": str(tmp / "runs"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "WANDB_MODE": "disabled",
    }
    proc = subprocess.run(
        [python or sys.executable, str(script), *args], cwd=tmp, env=env, capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode in ok, f"{script.name} exited {proc.returncode}:\n{output[-4000:]}"
    return output


def metrics(log_path: Path) -> list[dict[str, Any]]:
    path = log_path / "metrics.jsonl"
    assert path.is_file(), f"no metrics.jsonl in {log_path}"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def series(rows: list[dict[str, Any]], key: str) -> list[float]:
    out = [float(r[key]) for r in rows if key in r and r[key] is not None]
    assert len(out) >= 2, f"fewer than 2 rows with {key!r}: keys seen {sorted({k for r in rows for k in r})}"
    return out


def assert_falls(rows: list[dict[str, Any]], key: str, factor: float = 0.95) -> None:
    vals = series(rows, key)
    assert vals[-1] < vals[0] * factor, f"{key} did not fall: {vals}"


def assert_rises(rows: list[dict[str, Any]], key: str, margin: float = 0.05) -> None:
    vals = series(rows, key)
    k = 2 if len(vals) >= 4 else 1  # mean of the first/last two rows when there are enough to smooth
    head, tail = sum(vals[:k]) / k, sum(vals[-k:]) / k
    assert tail > head + margin, f"{key} did not rise: {vals}"


def warm_start(server: Server, conversations: list[list[dict[str, Any]]], steps: int, lr: float = 3e-3,
               rank: int = 32, batch: int = 16, sampler: bool = False, model: str = MODEL,
               renderer_name: str = "role_colon", train_on: str = "last_assistant_message") -> str:
    """A LoRA state of the tiny model after a short SFT on ``conversations`` (the last assistant turn).

    RL recipes learn from reward differences within a group; a random tiny model never produces the
    answer format, so every reward is equal and nothing trains. The RL tests start from this state
    (through the recipe's own ``load_checkpoint_path`` or resume key), as one starts RL from an SFT model.
    ``sampler=True`` returns sampler weights instead (a teacher for distillation).
    """
    from tinkerlite import ServiceClient, renderers, types
    from tinkerlite.supervised.data import conversation_to_datum

    svc = ServiceClient(base_url=server.url, api_key=server.api_key)
    try:
        tc = svc.create_lora_training_client(base_model=model, rank=rank).result()
        renderer = renderers.get_renderer(renderer_name, tc.get_tokenizer())
        data = [conversation_to_datum(c, renderer, 1024, renderers.TrainOnWhat(train_on))
                for c in conversations]
        for i in range(steps):
            chunk = [data[(i * batch + j) % len(data)] for j in range(batch)]
            fb = tc.forward_backward(chunk, loss_fn="cross_entropy")
            tc.optim_step(types.AdamParams(learning_rate=lr)).result()
            fb.result()
        if sampler:
            return str(tc.save_weights_for_sampler("warm-start").result().path)
        return str(tc.save_state("warm-start").result().path)
    finally:
        svc.close()


def hf_cache_from_pinned(root: Path, model: str, family: str) -> Path:
    """An offline HF hub cache (``HF_HUB_CACHE``) holding ``model``'s tokenizer, built from the pinned
    registry data of ``family`` (``tests.testdata``): the HF hub is unreachable here, the real files are not."""
    import shutil

    from tests.testdata import need, tokenizer_dir

    commit = "0" * 40
    repo = root / ("models--" + model.replace("/", "--"))
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(need(tokenizer_dir, family) / name, snap / name)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return root


def resume_from(log: Path, state_path: str) -> None:
    """Make ``log`` look like a run that saved ``state_path`` at step 0 (the cookbook's resume record)."""
    log.mkdir(parents=True, exist_ok=True)
    record = {"name": "warm-start", "batch": 0, "step": 0, "state_path": state_path}
    (log / "checkpoints.jsonl").write_text(json.dumps(record) + "\n")
