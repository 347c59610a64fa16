"""mbpp: prompts and ids from local rows, execution grading through a user-supplied sandbox (here a
test-only one that runs the file with this Python in a temporary directory), cleanup, and the error when
no sandbox is configured."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.eval.benchmarks import BenchmarkConfig
from tinkerlite.eval.benchmarks.mbpp import MBPPBenchmarkBuilder
from tinkerlite.renderers import get_renderer
from tinkerlite.tokenizer_utils import get_tokenizer


@dataclass
class Result:
    exit_code: int


class TempDirSandbox:
    """Files under a temporary directory; commands run there with this interpreter (test only)."""

    instances: list[TempDirSandbox] = []  # noqa: RUF012

    def __init__(self, root: Path) -> None:
        self.root, self.cleaned = root, 0
        TempDirSandbox.instances.append(self)

    async def write_file(self, path: str, text: str) -> None:
        (self.root / Path(path).name).write_text(text)

    async def run_command(self, command: str, timeout: float) -> Result:
        name = Path(command.split()[-1]).name
        proc = subprocess.run([sys.executable, name], cwd=self.root, capture_output=True, timeout=timeout)
        return Result(proc.returncode)

    async def cleanup(self) -> None:
        self.cleaned += 1


def _envs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, factory: Any) -> list[Any]:
    rows = [{"task_id": 11, "prompt": "Write add(a, b).", "test_list": ["assert add(1, 2) == 3"]},
            {"task_id": 12, "prompt": "", "test_list": ["assert True"]}]
    data = tmp_path / "data"
    data.mkdir(parents=True)
    (data / "google-research-datasets__mbpp__sanitized__test.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("TINKERLITE_BENCHMARK_DATA", str(data))
    renderer = get_renderer("role_colon", get_tokenizer("tinkerlite/tiny-chat"))
    return [e.message_env for e in MBPPBenchmarkBuilder().make_envs(renderer, BenchmarkConfig(sandbox_factory=factory))]


def test_mbpp_runs_the_code_against_the_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def factory() -> TempDirSandbox:
        d = tmp_path / f"sb{len(TempDirSandbox.instances)}"
        d.mkdir()
        return TempDirSandbox(d)

    def grade(text: str) -> tuple[float, dict[str, Any]]:
        (env,) = _envs(tmp_path / f"run{len(TempDirSandbox.instances)}", monkeypatch, factory)
        prompt = asyncio.run(env.initial_observation())[-1]["content"]
        assert "Example test: `assert add(1, 2) == 3`" in prompt and env.example_id == "mbpp_11"
        r = asyncio.run(env.step({"role": "assistant", "content": text}))
        asyncio.run(env.cleanup())  # a second cleanup is a no-op
        return r.reward, r.logs

    ok, logs = grade("Sure:\n```python\ndef add(a, b):\n    return a + b\n```")
    assert ok == 1.0 and logs["code"].startswith("def add") and list(logs) == ["example_id", "input", "output", "code"]
    assert grade("```python\ndef add(a, b):\n    return a - b\n```")[0] == 0.0
    assert all(sb.cleaned == 1 for sb in TempDirSandbox.instances)


def test_without_a_sandbox_the_error_says_what_to_provide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (env,) = _envs(tmp_path, monkeypatch, None)
    with pytest.raises(RuntimeError, match="provide a sandbox_factory in BenchmarkConfig"):
        asyncio.run(env.initial_observation())
    assert MBPPBenchmarkBuilder.requires_sandbox
