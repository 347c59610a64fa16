"""SWE-bench against the cookbook 0.6.1's own ``_swe_bench.py`` (executed at test time, its package imports
pointed at tinkerlite's env, tool and dataset plumbing): a whole episode on a small local repository —
clone and checkout of the base commit, the test patch, the agent's scripted fix through the bash tool, the
``fail_to_pass`` pytest grade — driven the same way through both, in a test-only sandbox that maps
``/workspace`` to a temporary directory and the GitHub URL to a local bare repository."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.eval.test_hmmt_longbench import _pkg, _stubs
from tests.official_exec import load_official
from tinkerlite.eval.benchmarks import REGISTRY, BenchmarkConfig
from tinkerlite.eval.benchmarks import _swe_bench as swe

pytestmark = pytest.mark.network_registry  # the cookbook sdist, fetched once (sha256-pinned)

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
TEST_PATCH = """\
diff --git a/tests/test_calc.py b/tests/test_calc.py
new file mode 100644
--- /dev/null
+++ b/tests/test_calc.py
@@ -0,0 +1,5 @@
+from calc import add
+
+
+def test_add():
+    assert add(2, 3) == 5
"""


@pytest.fixture(scope="module")
def official() -> types.ModuleType:
    import tinkerlite.tool_use.agent_tool_message_env
    import tinkerlite.tool_use.tools
    import tinkerlite.tool_use.types

    stubs = _stubs()
    stubs.update(
        {
            "tinker_cookbook.sandbox": _pkg("tinker_cookbook.sandbox", SandboxInterface=object),
            "tinker_cookbook.tool_use": _pkg("tinker_cookbook.tool_use"),
            "tinker_cookbook.tool_use.agent_tool_message_env": tinkerlite.tool_use.agent_tool_message_env,
            "tinker_cookbook.tool_use.tools": tinkerlite.tool_use.tools,
            "tinker_cookbook.tool_use.types": tinkerlite.tool_use.types,
        }
    )
    return load_official("eval/benchmarks/_swe_bench.py", "official_swe_bench", stubs)


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def upstream() -> tuple[Path, str]:
    """A bare repository with a buggy ``calc.add`` at its first commit (and a later commit on top)."""
    work = Path(tempfile.mkdtemp(prefix="swe-upstream-"))
    src = work / "src"
    src.mkdir()
    _git(src, "init", "-q", "-b", "main")
    (src / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (src / "conftest.py").write_text("")
    _git(src, "add", ".")
    _git(src, "commit", "-q", "-m", "calc")
    base = _git(src, "rev-parse", "HEAD")
    (src / "README").write_text("later\n")
    _git(src, "add", ".")
    _git(src, "commit", "-q", "-m", "later")
    bare = work / "calc.git"
    _git(work, "clone", "-q", "--bare", str(src), str(bare))
    _git(bare, "config", "uploadpack.allowAnySHA1InWant", "true")
    return bare, base


@dataclass
class Ran:
    stdout: str
    stderr: str
    exit_code: int


@dataclass
class RepoSandbox:
    """Test-only sandbox: ``/workspace`` is a temp dir, ``https://github.com/acme/calc.git`` a local bare repo."""

    upstream: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="swe-sandbox-")))
    log: list[str] = field(default_factory=list)
    cleaned: bool = False

    def _map(self, text: str) -> str:
        text = text.replace("https://github.com/acme/calc.git", f"file://{self.upstream}")
        return text.replace("/workspace", str(self.root))

    async def run_command(self, command: str, workdir: str | None = None, timeout: int = 60,
                          max_output_bytes: int | None = None) -> Ran:
        self.log.append(command)
        env = {**os.environ, **GIT_ENV, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        cwd = self._map(workdir) if workdir and Path(self._map(workdir)).is_dir() else str(self.root)
        proc = subprocess.run(["bash", "-c", self._map(command)], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout)
        return Ran(proc.stdout.replace(str(self.root), "/workspace"), proc.stderr, proc.returncode)

    async def write_file(self, path: str, content: str | bytes, executable: bool = False, timeout: int = 60) -> None:
        dest = Path(self._map(path))
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(content) if isinstance(content, str) else dest.write_bytes(content)

    async def cleanup(self) -> None:
        self.cleaned = True


def _call(command: str) -> str:
    call = json.dumps({"name": "bash", "arguments": {"command": command}})
    return f"<tool_call>\n{call}\n</tool_call><|im_end|>"


FIX = _call("cd /workspace/repo && sed -i 's/a - b/a + b/' calc.py")
LOOK = _call("cd /workspace/repo && git log --oneline | wc -l && cat calc.py")
DONE = "Fixed.<|im_end|>"


@pytest.fixture
def renderer() -> Any:
    from tinkerlite.renderers import get_renderer
    from tinkerlite.tokenizer_utils import get_tokenizer

    return get_renderer("qwen3_instruct", get_tokenizer("tinkerlite/tiny-chat"))


def _rows(base: str) -> list[dict[str, Any]]:
    return [
        {"instance_id": "acme__calc-1", "repo": "acme/calc", "base_commit": base, "hints_text": "Look at add.",
         "problem_statement": "add(2, 3) returns -1.", "test_patch": TEST_PATCH,
         "FAIL_TO_PASS": json.dumps(["tests/test_calc.py::test_add"])},
        {"instance_id": "acme__calc-2", "repo": "acme/calc", "base_commit": "", "problem_statement": "no commit"},
        {"instance_id": "acme__calc-3", "repo": "acme/calc", "base_commit": base, "problem_statement": ""},
    ]


def _episode(builder: Any, renderer: Any, upstream: Path, script: list[str]) -> tuple[list[Any], RepoSandbox]:
    boxes: list[RepoSandbox] = []

    async def factory() -> RepoSandbox:
        boxes.append(RepoSandbox(upstream))
        return boxes[-1]

    envs = builder.make_envs(renderer, BenchmarkConfig(sandbox_factory=factory))
    assert len(envs) == 1

    async def run() -> list[Any]:
        obs, stop = await envs[0].initial_observation()
        out: list[Any] = [obs.to_ints(), stop]
        for text in script:
            r = await envs[0].step(renderer.tokenizer.encode(text, add_special_tokens=False))
            out.append((r.reward, r.episode_done, r.metrics, r.logs, r.next_observation.to_ints()))
            if r.episode_done:
                break
        return out

    return asyncio.run(run()), boxes[0]


def test_an_episode_matches_the_cookbook(
    official: types.ModuleType, renderer: Any, upstream: tuple[Path, str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    bare, base = upstream
    (tmp_path / "princeton-nlp__SWE-bench_Verified__test.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in _rows(base))
    )
    monkeypatch.setenv("TINKERLITE_BENCHMARK_DATA", str(tmp_path))
    for script, reward in [([LOOK, FIX, DONE], 1.0), ([LOOK, DONE], 0.0)]:
        ours, ours_box = _episode(REGISTRY["swe_bench"], renderer, bare, script)
        theirs, theirs_box = _episode(official.SWEBenchBenchmarkBuilder(), renderer, bare, script)
        assert ours == theirs
        assert ours_box.log == theirs_box.log
        last_reward, done, metrics, logs, _ = ours[-1]
        assert (last_reward, done) == (reward, True)
        assert metrics["num_tests_total"] == 1.0 and metrics["num_turns"] == len(script)
        assert (logs["example_id"], logs["instance_id"], logs["repo"]) == ("swe_bench_acme__calc-1", "acme__calc-1",
                                                                           "acme/calc")
        assert ours_box.log[-1] == "cd /workspace/repo && python -m pytest tests/test_calc.py::test_add --tb=short 2>&1"
    looked = json.loads(ours[2][3]["tool_result_0"])["stdout"]
    assert looked == "1\ndef add(a, b):\n    return a - b\n"  # checked out at the base commit, one commit deep


def test_a_failed_checkout_cleans_up_and_says_so(
    official: types.ModuleType, renderer: Any, upstream: tuple[Path, str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    bare, _ = upstream
    (tmp_path / "princeton-nlp__SWE-bench_Verified__test.jsonl").write_text(json.dumps(_rows("0" * 40)[0]) + "\n")
    monkeypatch.setenv("TINKERLITE_BENCHMARK_DATA", str(tmp_path))
    for builder in (REGISTRY["swe_bench"], official.SWEBenchBenchmarkBuilder()):
        with pytest.raises(RuntimeError, match="swe_bench setup failed") as info:
            _episode(builder, renderer, bare, [DONE])
        assert "git fetch --depth=50 origin" in str(info.value)


def test_prompt_and_parsing_match(official: types.ModuleType) -> None:
    assert swe._SYSTEM_PROMPT == official._SYSTEM_PROMPT and swe.MAX_TURNS == official.MAX_TURNS
    for raw in [["a", "b"], '["t1", "t2"]', "tests/x.py::y", "  ", "[not json", '{"a": 1}', 5, None]:
        assert swe._parse_test_ids(raw) == official._parse_test_ids(raw), raw
    for rewards, metrics in [([1.0, 0.0, 1.0], [{"num_turns": 3}, {"num_turns": 5}, {}]), ([], [])]:
        assert REGISTRY["swe_bench"].aggregate(rewards, metrics) == official.SWEBenchBenchmarkBuilder().aggregate(
            rewards, metrics
        )
