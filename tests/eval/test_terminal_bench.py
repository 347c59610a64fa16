"""Terminal-Bench against the cookbook 0.6.1's own ``_terminal_bench.py`` (executed at test time with its
package imports pointed at tinkerlite's env, tool and dataset plumbing): task parsing (task.yaml, the
gzipped archive, the fallbacks), and the whole agent episode — sandbox setup, the bash tool's output, the
test-script grade, the metrics — driven by the same scripted tool calls through both, in a test-only
sandbox that maps ``/app`` to a temporary directory and runs commands with bash. Then a run on the local
server through the benchmark runner."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import subprocess
import tarfile
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import tinkerlite.tool_use.agent_tool_message_env
import tinkerlite.tool_use.tools
import tinkerlite.tool_use.types
from tests.eval.test_hmmt_longbench import _pkg, _stubs
from tests.official_exec import load_official
from tinkerlite.eval.benchmarks import REGISTRY, BenchmarkConfig, load_trajectories, run_benchmark
from tinkerlite.eval.benchmarks import _terminal_bench as tb

pytest.importorskip("yaml")
pytestmark = pytest.mark.network_registry  # the cookbook sdist, fetched once (sha256-pinned)

TEST_SCRIPT = "#!/bin/bash\ngrep -qx 'hello world' out.txt\n"  # run from /app


def _archive(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        d = tarfile.TarInfo("./empty_dir")
        d.type = tarfile.DIRTYPE
        tar.addfile(d)
    return gzip.compress(buf.getvalue())


ARCHIVE = _archive(
    {"./run-tests.sh": TEST_SCRIPT, "data/input.txt": "hello world\n", "solution.sh": "cp data/input.txt out.txt",
     "tests/check.py": "print('ok')\n"}
)
ROWS: list[dict[str, Any]] = [
    {"task_id": "copy", "task_yaml": "instruction: Copy data/input.txt to out.txt.\ndifficulty: easy\n",
     "archive": ARCHIVE},
    {"task_id": "", "task_yaml": ": : not yaml [", "instruction": "Fallback instruction.", "test_script": "exit 1"},
    {"task_id": "list", "task_yaml": "- just a list", "description": "From description.", "archive": b"not gzip"},
    {"task_id": "none", "task_yaml": ""},
    {"task_id": "bytes", "task_yaml": "instruction: ''", "task": "From task.", "archive": list(ARCHIVE)},
]


@pytest.fixture(scope="module")
def official() -> types.ModuleType:
    stubs = _stubs()
    sandbox = _pkg("tinker_cookbook.sandbox", SandboxInterface=object)
    stubs.update(
        {
            "tinker_cookbook.sandbox": sandbox,
            "tinker_cookbook.tool_use": _pkg("tinker_cookbook.tool_use"),
            "tinker_cookbook.tool_use.agent_tool_message_env": tinkerlite.tool_use.agent_tool_message_env,
            "tinker_cookbook.tool_use.tools": tinkerlite.tool_use.tools,
            "tinker_cookbook.tool_use.types": tinkerlite.tool_use.types,
        }
    )
    return load_official("eval/benchmarks/_terminal_bench.py", "official_terminal_bench", stubs)


def test_task_parsing_matches(official: types.ModuleType) -> None:
    for row in ROWS:
        assert tb._parse_task(row) == official._parse_task(row), row["task_id"]
    instruction, script, files = tb._parse_task(ROWS[0])
    assert (instruction, script) == ("Copy data/input.txt to out.txt.", TEST_SCRIPT)
    assert set(files) == {"run-tests.sh", "data/input.txt", "tests/check.py"}  # solution* left out
    assert tb._SYSTEM_PROMPT == official._SYSTEM_PROMPT and tb.MAX_TURNS == official.MAX_TURNS


@dataclass
class Ran:
    stdout: str
    stderr: str
    exit_code: int


@dataclass
class AppSandbox:
    """Test-only sandbox: ``/app`` is a temporary directory; commands run there with bash."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tb-sandbox-")))
    log: list[str] = field(default_factory=list)
    cleaned: bool = False

    def _map(self, text: str) -> str:
        return text.replace("/app", str(self.root))

    async def run_command(self, command: str, workdir: str | None = None, timeout: int = 60,
                          max_output_bytes: int | None = None) -> Ran:
        self.log.append(command)
        cwd = self._map(workdir) if workdir else str(self.root)
        proc = subprocess.run(["bash", "-c", self._map(command)], cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)
        return Ran(proc.stdout.replace(str(self.root), "/app"), proc.stderr, proc.returncode)

    async def write_file(self, path: str, content: str | bytes, executable: bool = False, timeout: int = 60) -> None:
        dest = Path(self._map(path))
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(content) if isinstance(content, str) else dest.write_bytes(content)
        if executable:
            dest.chmod(0o755)

    async def cleanup(self) -> None:
        self.cleaned = True


def _call(command: str) -> str:
    call = json.dumps({"name": "bash", "arguments": {"command": command}})
    return f"<tool_call>\n{call}\n</tool_call><|im_end|>"


SCRIPT = [_call("ls data && cat data/input.txt"), _call("cp data/input.txt out.txt"), "All done.<|im_end|>"]


@pytest.fixture
def renderer() -> Any:
    from tinkerlite.renderers import get_renderer
    from tinkerlite.tokenizer_utils import get_tokenizer

    return get_renderer("qwen3_instruct", get_tokenizer("tinkerlite/tiny-chat"))


def _episode(builder: Any, renderer: Any, script: list[str]) -> Any:
    sandboxes: list[AppSandbox] = []

    async def factory() -> AppSandbox:
        sandboxes.append(AppSandbox())
        return sandboxes[-1]

    env = builder.make_envs(renderer, BenchmarkConfig(sandbox_factory=factory, max_examples=1))[0]

    async def run() -> Any:
        obs, stop = await env.initial_observation()
        steps = [obs.to_ints(), stop]
        for text in script:
            result = await env.step(renderer.tokenizer.encode(text, add_special_tokens=False))
            steps.append((result.reward, result.episode_done, result.metrics, result.logs,
                          result.next_observation.to_ints()))
            if result.episode_done:
                break
        return steps

    return asyncio.run(run()), sandboxes[0]


def test_an_episode_matches_the_cookbook(
    official: types.ModuleType, renderer: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "ia03__terminal-bench__test.jsonl").write_text(
        "".join(json.dumps({**r, "archive": list(r["archive"])} if isinstance(r.get("archive"), bytes) else r) + "\n"
                for r in ROWS)
    )
    monkeypatch.setenv("TINKERLITE_BENCHMARK_DATA", str(data))
    ours, ours_box = _episode(REGISTRY["terminal_bench"], renderer, SCRIPT)
    theirs, theirs_box = _episode(official.TerminalBenchBenchmarkBuilder(), renderer, SCRIPT)
    assert ours == theirs
    assert ours_box.log == theirs_box.log
    reward, done, metrics, logs, _ = ours[-1]
    assert (reward, done) == (1.0, True) and logs["example_id"] == "terminal_bench_copy"
    assert metrics["correct"] == 1.0 and metrics["num_commands"] == 2.0 and metrics["num_turns"] == 3.0
    assert ours_box.log[-1] == "cd /app && TEST_DIR=/app/tests bash run_tests.sh 2>&1"
    assert not (ours_box.root / "solution.sh").exists() and (ours_box.root / "out.txt").read_text() == "hello world\n"
    failing, _ = _episode(REGISTRY["terminal_bench"], renderer, SCRIPT[:1] + SCRIPT[2:])
    assert failing[-1][:2] == (0.0, True)


def test_a_run_on_the_local_server(renderer: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import tinkerlite
    import tinkerlite.local

    data = tmp_path / "data"
    data.mkdir()
    (data / "ia03__terminal-bench__test.jsonl").write_text(json.dumps({**ROWS[0], "archive": list(ARCHIVE)}) + "\n")
    monkeypatch.setenv("TINKERLITE_BENCHMARK_DATA", str(data))
    made: list[AppSandbox] = []

    async def factory() -> AppSandbox:
        made.append(AppSandbox())
        return made[-1]

    config = BenchmarkConfig(sandbox_factory=factory, max_tokens=16, temperature=0.0, save_dir=str(tmp_path / "run"))
    with tinkerlite.local.serve(api_key="tml-local") as url:
        service = tinkerlite.ServiceClient(base_url=url, api_key="tml-local")
        sampler = service.create_sampling_client(base_model="tinkerlite/tiny-chat").result()
        result = asyncio.run(run_benchmark("terminal_bench", sampler, renderer, config))
        service.close()
    assert result.num_examples == 1 and result.score == 0.0  # an untrained model does not copy the file
    assert made and made[0].cleaned and made[0].log[0] == "mkdir -p /app/tests"
    (traj,) = load_trajectories(str(tmp_path / "run"), "terminal_bench")
    assert traj.example_id == "terminal_bench_copy" and traj.turns[0].role == "user"
