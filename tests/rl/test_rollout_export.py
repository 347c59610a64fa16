"""The RL loop's per-iteration rollout files: the cookbook's ``iteration_NNNNNN/train_rollout_summaries.jsonl``
(keys checked against the cookbook 0.6.1's own serializer), its logtree transcript, tinkerlite's token sidecar,
and resume (a step's files are written whole: re-running a step replaces them, never appends)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.rl.conftest import group, trajectory, transition
from tests.rl.test_rollout_logging import _groups
from tests.rl.test_rollout_logging import official as official  # the cookbook's module, executed
from tinkerlite.rl.rollout_logging import TOKENS_SCHEMA, RolloutSummaryGroup, export_iteration_rollouts
from tinkerlite.tokenizers import get_tokenizer

REPO = Path(__file__).resolve().parents[2]
N_TRAJ = 8 * 4  # the CLI's default batch_size x group_size


def _cli(log: Path, *argv: str) -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env.pop("TINKER_BASE_URL", None)
    p = subprocess.run(
        [sys.executable, "-m", "tinkerlite", "rl", f"log_path={log}", *argv],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _key_tree(rec: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    return sorted(rec), [sorted(s) for s in rec["steps"]]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = tmp_path_factory.mktemp("rl_export") / "run"
    _cli(log, "max_steps=2", "eval_every=0")
    return log


def test_a_short_run_writes_the_cookbook_files(run: Path, official: Any) -> None:
    theirs = official.serialize_rollout_summaries_from_groups(
        split="train", iteration=0, groups_P=[RolloutSummaryGroup(g, ["t"], 0) for g in _groups()]
    )
    assert sorted(p.name for p in run.iterdir() if p.name.startswith("iteration_")) == [
        "iteration_000000", "iteration_000001"
    ]
    for it in (0, 1):
        d = run / f"iteration_{it:06d}"
        path = d / "train_rollout_summaries.jsonl"
        recs = _lines(path)
        assert len(recs) == N_TRAJ
        # the cookbook store's bytes: json.dumps per line, newline-joined, final newline
        assert path.read_bytes() == ("\n".join(json.dumps(r) for r in recs) + "\n").encode()
        assert all(_key_tree(r)[0] == _key_tree(theirs[0])[0] for r in recs)
        assert all(sorted(s) == sorted(theirs[0]["steps"][0]) for r in recs for s in r["steps"])
        assert {(r["split"], r["iteration"], r["sampling_client_step"]) for r in recs} == {("train", it, it)}
        assert [(r["group_idx"], r["traj_idx"]) for r in recs] == [(g, t) for g in range(8) for t in range(4)]
        # the logtree transcript the cookbook writes while sampling (num_groups_to_log=4 of the 8 groups), each
        # turn with its decoded text
        html = (d / "train.html").read_text()
        assert f"RL Iteration {it}" in html and html.count(">Group Rollout</h") == 4
        assert html.count("Episode totals") == 4 * 4 and "Transcript" in html
        assert isinstance(json.loads((d / "train_logtree.json").read_text()), dict)
        assert not [p for p in d.iterdir() if p.name.endswith(".tmp")]


def test_the_token_sidecar_matches_the_summaries(run: Path) -> None:
    d = run / "iteration_000001"
    summaries, tokens = _lines(d / "train_rollout_summaries.jsonl"), _lines(d / "train_rollout_tokens.jsonl")
    assert len(tokens) == len(summaries)
    tok = get_tokenizer("tinkerlite/tiny-chat")
    by_group: dict[int, list[float]] = {}
    for s, t in zip(summaries, tokens, strict=True):
        assert t["schema"] == TOKENS_SCHEMA
        assert (t["group_idx"], t["traj_idx"], t["total_reward"]) == (s["group_idx"], s["traj_idx"], s["total_reward"])
        assert len(t["turns"]) == len(s["steps"])
        for turn, step in zip(t["turns"], s["steps"], strict=True):
            assert len(turn["ob_tokens"]) == step["ob_len"] and len(turn["ac_tokens"]) == step["ac_len"]
            assert len(turn["ac_logprobs"]) == len(turn["ac_pieces"]) == step["ac_len"]
            assert all(lp <= 0.0 for lp in turn["ac_logprobs"])
            assert turn["ob_text"] == tok.decode(turn["ob_tokens"]) and turn["ob_text"].endswith(":")
            assert turn["ac_pieces"] == [tok.decode([t]) for t in turn["ac_tokens"]]
            assert turn["reward"] == step["reward"]
        by_group.setdefault(t["group_idx"], []).append(t["advantage"])
    assert all(abs(sum(a)) < 1e-9 for a in by_group.values())  # reward minus the group mean


def test_resume_writes_only_the_new_iteration(run: Path) -> None:
    before = {p: p.read_bytes() for p in run.glob("iteration_*/*")}
    _cli(run, "max_steps=3", "eval_every=0", "behavior_if_log_dir_exists=resume")
    assert {p: p.read_bytes() for p in before} == before
    assert len(_lines(run / "iteration_000002" / "train_rollout_summaries.jsonl")) == N_TRAJ
    assert len(_lines(run / "iteration_000002" / "train_rollout_tokens.jsonl")) == N_TRAJ


def test_a_rerun_step_replaces_its_files(tmp_path: Path) -> None:
    groups = [RolloutSummaryGroup(group([trajectory(transition([1, 2], [3], [-0.5], reward=1.0, done=True))]), [], 0)]
    for _ in range(2):
        export_iteration_rollouts(tmp_path, iteration=5, groups_P=groups, decode=lambda ids: "".join(map(str, ids)))
    d = tmp_path / "iteration_000005"
    assert sorted(p.name for p in d.iterdir()) == [
        "train.html", "train_logtree.json", "train_rollout_summaries.jsonl", "train_rollout_tokens.jsonl"
    ]
    assert len(_lines(d / "train_rollout_summaries.jsonl")) == 1
    (turn,) = _lines(d / "train_rollout_tokens.jsonl")[0]["turns"]
    assert turn == {
        "turn_idx": 0, "ob_tokens": [1, 2], "ob_text": "12", "ac_tokens": [3], "ac_logprobs": [-0.5],
        "ac_pieces": ["3"], "reward": 1.0, "episode_done": True,
    }


def test_export_off(tmp_path: Path) -> None:
    groups = [RolloutSummaryGroup(group([trajectory(transition([1], [2], reward=0.0, done=True))]), [], 0)]
    export_iteration_rollouts(tmp_path / "a", iteration=0, groups_P=groups, json_export=False, num_groups_to_log=0)
    assert not (tmp_path / "a").exists()
    export_iteration_rollouts(tmp_path / "b", iteration=0, groups_P=groups, json_export=False, num_groups_to_log=1)
    assert sorted(p.name for p in (tmp_path / "b" / "iteration_000000").iterdir()) == [
        "train.html", "train_logtree.json"
    ]


def test_async_loop_and_test_set_write_their_files(tmp_path: Path) -> None:
    log = tmp_path / "run"
    _cli(log, "max_steps=2", "eval_every=1", "max_steps_off_policy=1")
    for it in (0, 1):
        recs = _lines(log / f"iteration_{it:06d}" / "train_rollout_summaries.jsonl")
        assert len(recs) == N_TRAJ and all(it - 1 <= r["sampling_client_step"] <= it for r in recs)
        assert len(_lines(log / f"iteration_{it:06d}" / "train_rollout_tokens.jsonl")) == N_TRAJ
    # the test set, as the cookbook's RLTestSetEvaluator (name "test") exports it: eval_test_*, split eval/test,
    # at every eval step and the final one
    for it in (0, 1, 2):
        d = log / f"iteration_{it:06d}"
        recs = _lines(d / "eval_test_rollout_summaries.jsonl")
        assert recs and {(r["split"], r["iteration"], r["sampling_client_step"]) for r in recs} == {
            ("eval/test", it, it)
        }
        assert len(_lines(d / "eval_test_rollout_tokens.jsonl")) == len(recs)
        assert f"Running evaluation test {it}" in (d / "eval_test.html").read_text()
        assert (d / "eval_test_logtree.json").is_file()
    assert not (log / "iteration_000002" / "train_rollout_summaries.jsonl").exists()


def test_a_step_rerun_after_a_crash_replaces_its_iteration(tmp_path: Path) -> None:
    log = tmp_path / "run"
    _cli(log, "max_steps=2", "eval_every=0", "save_every=1")
    ckpts = (log / "checkpoints.jsonl").read_text().splitlines(keepends=True)
    assert len(ckpts) == 2  # step 1 (periodic), final
    (log / "checkpoints.jsonl").write_text(ckpts[0])  # as if killed before the final checkpoint
    f1 = log / "iteration_000001" / "train_rollout_summaries.jsonl"
    f0 = log / "iteration_000000" / "train_rollout_summaries.jsonl"
    for f in (f0, f1):
        os.utime(f, (1_000_000_000, 1_000_000_000))
    _cli(log, "max_steps=2", "eval_every=0", "save_every=1", "behavior_if_log_dir_exists=resume")
    assert f1.stat().st_mtime > 1_000_000_000  # step 1 ran again and rewrote its files ...
    assert len(_lines(f1)) == len(_lines(f1.with_name("train_rollout_tokens.jsonl"))) == N_TRAJ  # ... not appended
    assert f0.stat().st_mtime == 1_000_000_000  # resumed at step 1: step 0's files untouched
