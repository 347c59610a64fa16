"""The inspect_ai integration working for real: in a venv with inspect_ai (tests/eval/inspect_env.py),
against the embedded local server.

- A custom inspect task (four bundled samples, ``includes`` scorer) evaluated through
  ``InspectEvaluatorBuilder``: two targets are pieces of the tiny model's own greedy answers and two
  are impossible, so the accuracy must be exactly 0.5, and each sample's completion and token usage must
  equal what the same prompt gives when sampled directly (the adapter renders as the renderer does).
- ``run_inspect_evals.main`` on a ``tinker://`` checkpoint (base model and renderer resolved from it).
- A tool-using task (native tool calls through the qwen3 renderer) with reasoning kept as content.
- ``custom_inspect_task.example_lm_as_judge`` with a scripted judge (the policy is the
  local model; the module's service client is created lazily).
- The cookbook's own ``inspect_utils_test.py`` (imports rewritten) and the signature diff of these
  modules, both run where inspect_ai is importable.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.eval.inspect_env import run_in_venv
from tests.official_env import official_source, rewrite_imports

pytestmark = [pytest.mark.network_registry, pytest.mark.slow]


def _child(mode: str, tmp_path: Path, backend: str = "auto") -> dict[str, Any]:
    proc = run_in_venv(
        ["-m", "tests.eval.inspect_e2e_child", mode, str(tmp_path / "logs")],
        timeout=600,
        env={
            "TINKERLITE_CONFIG_BACKEND": backend,
            "INSPECT_DISPLAY": "none",
            "TINKER_COOKBOOK_RUNS_DIR": str(tmp_path / "runs"),
        },
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def _check_samples(result: dict[str, Any]) -> None:
    samples = sorted(result["samples"], key=lambda s: s["id"])
    assert [s["error"] for s in samples] == [None] * 4
    assert [s["score"] for s in samples] == ["C", "C", "I", "I"]
    for s, a in zip(samples, result["answers"], strict=True):
        assert s["completion"] == a["text"]
        assert (s["input_tokens"], s["output_tokens"]) == (a["prompt_tokens"], a["n_tokens"])


@pytest.mark.parametrize("backend", ["stdlib", "chz"])
def test_inspect_evaluator_scores_a_custom_task(tmp_path: Path, backend: str) -> None:
    result = _child("evaluator", tmp_path, backend)
    stderr = math.sqrt(sum((x - 0.5) ** 2 for x in (1, 1, 0, 0)) / 3) / 2  # inspect's stderr: sample std / sqrt(n)
    assert result["metrics"] == {"tiny_qa/accuracy": 0.5, "tiny_qa/stderr": pytest.approx(stderr)}
    _check_samples(result)


def test_run_inspect_evals_main_on_a_checkpoint(tmp_path: Path) -> None:
    result = _child("run_main", tmp_path)
    assert result["path"].startswith("tinker://")
    _check_samples(result)
    assert result["mismatch"].startswith("ConfigurationError: Model name x/y does not match training run base model")


def test_run_inspect_evals_command_line(tmp_path: Path) -> None:
    result = _child("cli", tmp_path)
    assert (result["rc"], result["bad_rc"]) == (0, 2)  # a mistyped option is a one-line error, exit 2
    _check_samples(result)


def test_inspects_model_registry_finds_tinker_sampling(tmp_path: Path) -> None:
    result = _child("registry", tmp_path)
    assert result["api"] == "InspectAPIFromTinkerSampling"
    _check_samples(result)


def test_a_tool_using_task_with_reasoning(tmp_path: Path) -> None:
    result = _child("tools", tmp_path)
    assert result["calls"] == [42]  # the sampled tool call reached inspect's tool, with its arguments
    assert result["declared"] == [True, True]  # the renderer declared the tool in both prompts
    assert result["tool_result_seen"]  # the tool's result went back to the model
    assert result["final_types"] == ["ContentReasoning", "ContentText"] and result["reasoning"] == ["sum is 42"]
    assert (result["score"], result["accuracy"]) == ("C", 1.0)


def test_custom_inspect_task_llm_judge(tmp_path: Path) -> None:
    result = _child("judge", tmp_path)
    assert result["before"] == dict.fromkeys(("service_client", "sampling_client", "api", "GRADER_MODEL"), False)
    assert result["lazy_service"] == "ServiceClient"
    assert result["judge_calls"] == 2  # one grading call per sample, through the injected judge
    assert set(result["metrics"]) == {"qa_dataset/accuracy", "qa_dataset/stderr"}
    assert result["metrics"]["qa_dataset/accuracy"] == 0.5  # France (target Paris) graded C, Italy I
    assert result["judge_saw_submission"] == [True, True]
    samples = sorted(result["samples"], key=lambda s: s["id"])
    assert [(s["error"], s["score"]) for s in samples] == [(None, "C"), (None, "I")]


def test_cookbook_inspect_utils_tests_pass(tmp_path: Path) -> None:
    src = official_source("cookbook") / "tinker_cookbook" / "eval" / "inspect_utils_test.py"
    dst = tmp_path / "test_cookbook_inspect_utils.py"
    dst.write_text(rewrite_imports(src.read_text(encoding="utf-8")), encoding="utf-8")
    proc = run_in_venv(["-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(dst)], 300)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout and "failed" not in proc.stdout


_SIGNATURES = textwrap.dedent(
    """
    import inspect, json, sys
    from pathlib import Path
    from tests.compat.official_ast import OfficialPackage
    from tests.compat.sigdiff import diff_package
    from tinkerlite.eval import custom_inspect_task as cit

    pkg = OfficialPackage(Path(sys.argv[1]), "tinker_cookbook")
    mods = ("inspect_utils", "inspect_evaluators", "run_inspect_evals")
    rep = diff_package(pkg, {f"tinker_cookbook.eval.{m}": f"tinkerlite.eval.{m}" for m in mods})
    names = pkg.public_names("tinker_cookbook.eval.custom_inspect_task")
    lazy_or_present = [n for n in names if n in vars(cit) or n in cit._LAZY]
    print(json.dumps({
        "both": rep.modules_both, "missing": rep.names_missing,
        "diffs": [f"{d.qualname}: {d.message}" for d in rep.diffs],
        "custom_names": names, "custom_present": lazy_or_present,
        "judge_params": list(inspect.signature(cit.example_lm_as_judge).parameters),
    }))
    """
)


def test_signatures_match_the_cookbook_where_inspect_ai_is_installed() -> None:
    root = official_source("cookbook")
    proc = run_in_venv(["-c", _SIGNATURES, str(root)], 300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(got["both"]) == 3 and got["missing"] == [] and got["diffs"] == [], got
    assert got["custom_names"] and got["custom_present"] == got["custom_names"]
    assert got["judge_params"] == []
