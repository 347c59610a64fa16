"""The viewer's file readers (no HTTP): streaming, tolerant of half-written files, bounded memory."""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

import pytest

from tinkerlite.view.examples import data_source, render_examples
from tinkerlite.view.runs import (
    NotARunDirError,
    SeriesSampler,
    discover_runs,
    iter_jsonl,
    read_checkpoints,
    read_config,
    read_metrics,
    read_rollouts,
    run_summary,
)
from tinkerlite.view.transcripts import read_rollout_transcripts


def _write_rows(path: Path, rows: list[dict[str, object]], tail: str = "") -> None:
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
        f.write(tail)


def test_truncated_last_line_is_left_for_the_next_read(tmp_path: Path) -> None:
    _write_rows(tmp_path / "metrics.jsonl", [{"step": 0, "loss": 1.0}, {"step": 1, "loss": 0.5}], '{"step": 2, "lo')
    first = read_metrics(str(tmp_path))
    assert first.rows == 2 and first.series["loss"].points() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.5]]
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('ss": 0.25, "time/total": 2.0}\n')
    more = read_metrics(str(tmp_path), first.offset, first.wall)
    assert more.rows == 1 and more.series["loss"].points() == [[2.0, 2.0, 0.25]]


def test_bad_lines_are_counted_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text('{"step": 0, "x": 1}\nnot json\n[1, 2]\n{"step": 1, "x": NaN}\n')
    m = read_metrics(str(tmp_path))
    assert m.rows == 2 and m.bad_lines == 2
    assert m.to_json()["series"]["x"] == [[0.0, 0.0, 1.0], [1.0, 0.0, None]]  # NaN -> null: JSON a browser can parse


def test_missing_files_read_as_empty(tmp_path: Path) -> None:
    assert list(iter_jsonl(str(tmp_path / "absent.jsonl"))) == []
    assert read_metrics(str(tmp_path)).rows == 0
    assert read_checkpoints(str(tmp_path)) == [] and read_config(str(tmp_path)) is None
    (tmp_path / "config.json").write_text('{"model_name": "half-writ')
    assert read_config(str(tmp_path)) is None
    s = run_summary(str(tmp_path))
    assert s["steps"] is None and s["model"] is None


def test_incremental_read_extends_and_restarts_after_truncation(tmp_path: Path) -> None:
    _write_rows(tmp_path / "metrics.jsonl", [{"step": i, "v": float(i)} for i in range(5)])
    m = read_metrics(str(tmp_path))
    _write_rows(tmp_path / "metrics.jsonl", [{"step": i, "v": float(i)} for i in range(8)])
    m = read_metrics(str(tmp_path), into=m)
    assert m.rows == 8 and len(m.series["v"].points()) == 8 and not m.reset
    _write_rows(tmp_path / "metrics.jsonl", [{"step": 0, "v": 9.0}])  # a resumed run truncated the file
    m2 = read_metrics(str(tmp_path), into=m)
    assert m2.reset and m2.rows == 1 and m2.series["v"].points() == [[0.0, 0.0, 9.0]]


def test_series_sampler_is_bounded_and_spans_the_whole_run() -> None:
    s = SeriesSampler(max_points=100)
    for i in range(100_000):
        s.add(i, i, float(i))
    pts = s.points()
    assert 50 <= len(pts) <= 100
    assert pts[0][0] == 0 and pts[-1][0] > 90_000
    assert all(b[0] > a[0] for a, b in itertools.pairwise(pts))


def test_discover_and_status(view_runs: dict[str, Path], tmp_path: Path) -> None:
    found = discover_runs([str(view_runs["root"])])
    assert {os.path.basename(p) for p in found} == {"sl", "rl", "cookbook_rl"}
    statuses = {os.path.basename(p): run_summary(p)["status"] for p in found}
    assert statuses == {"sl": "finished", "rl": "finished", "cookbook_rl": "crashed"}
    sl = run_summary(str(view_runs["sl"]))
    assert sl["model"] == "tinkerlite/tiny-chat" and sl["renderer"] == "role_colon" and sl["recipe"] == "sl"
    assert sl["steps"] == 6 and sl["loss_key"] == "train_mean_nll" and sl["last_loss"] > 0
    live = tmp_path / "live"
    live.mkdir()
    _write_rows(live / "metrics.jsonl", [{"step": 0, "train_mean_nll": 3.0}])
    assert run_summary(str(live))["status"] == "running"
    assert run_summary(str(live), now=time.time() + 3600)["status"] == "crashed"


def test_not_a_run_dir_says_what_was_expected(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(NotARunDirError, match=r"metrics\.jsonl, checkpoints\.jsonl, config\.json"):
        discover_runs([str(tmp_path)])
    with pytest.raises(NotARunDirError, match="not a directory"):
        discover_runs([str(tmp_path / "nope")])


def test_checkpoints_have_kind(view_runs: dict[str, Path]) -> None:
    cks = read_checkpoints(str(view_runs["sl"]))
    assert cks and cks[-1]["kind"] == "both" and cks[-1]["sampler_path"].startswith("tinker://")


def test_rollouts_cookbook_format_and_absent(view_runs: dict[str, Path]) -> None:
    r = read_rollouts(str(view_runs["cookbook_rl"]))
    assert r["count"] == 16 and [it["iteration"] for it in r["iterations"]] == [1, 2]
    g = r["iterations"][1]["groups"][0]
    assert g["reward_mean"] == pytest.approx(0.4375)
    assert [t["advantage"] for t in g["trajs"]] == pytest.approx([-0.4375, -0.1875, 0.0625, 0.5625])
    assert r["iterations"][0]["groups"][1]["reward_mean"] == pytest.approx(0.4375 / 2)
    assert all(it["transcripts"] == [] for it in r["iterations"])  # the cookbook's files carry no tokens
    none = read_rollouts(str(view_runs["rl_metrics_only"]))
    assert none["iterations"] == [] and "rollout_summaries.jsonl" in none["reason"]


def test_tinkerlite_rl_run_has_rollouts_and_token_transcripts(view_runs: dict[str, Path]) -> None:
    from tinkerlite.tokenizers import get_tokenizer

    run = str(view_runs["rl"])
    r = read_rollouts(run)
    # train rollouts at steps 0-2; the test set's at the step-0 eval and the final one (step 3)
    assert [it["iteration"] for it in r["iterations"]] == [0, 1, 2, 3]
    splits = [it["transcripts"] for it in r["iterations"]]
    assert splits == [["eval_test", "train"], ["train"], ["train"], ["eval_test"]]
    n_test = read_rollout_transcripts(run, 3, split="eval_test")["matched"]
    assert n_test > 0 and r["count"] == 3 * 32 + 2 * n_test
    t = read_rollout_transcripts(run, 1)
    assert t["available"] and t["matched"] == len(t["trajs"]) == 32 and not t["truncated"]
    tok = get_tokenizer("tinkerlite/tiny-chat")
    summaries = {(tr["group_idx"], tr["traj_idx"]): tr for g in r["iterations"][1]["groups"] for tr in g["trajs"]}
    for traj in t["trajs"]:
        s = summaries[(traj["group_idx"], traj["traj_idx"])]
        assert traj["total_reward"] == s["total_reward"] and traj["advantage"] == pytest.approx(s["advantage"])
        (turn,) = traj["turns"]
        assert len(turn["ac"]) == s["steps"][0]["ac_len"] and turn["ob_len"] == s["steps"][0]["ob_len"]
        assert all(a["lp"] is not None and a["lp"] <= 0 and a["t"] == tok.decode([a["id"]]) for a in turn["ac"])
        assert turn["ob_text"].endswith(":")
    # the reward filter and the cap: matched counts every passing trajectory, trajs holds at most `limit`
    rewards = sorted(tr["total_reward"] for tr in t["trajs"])
    cut = rewards[len(rewards) // 2]
    hi = read_rollout_transcripts(run, 1, min_reward=cut, limit=3)
    assert hi["matched"] == sum(x >= cut for x in rewards) and len(hi["trajs"]) == min(3, hi["matched"])
    assert hi["truncated"] == (hi["matched"] > 3) and all(tr["total_reward"] >= cut for tr in hi["trajs"])
    lo = read_rollout_transcripts(run, 1, max_reward=-1.0)
    assert lo["matched"] == 0 and lo["trajs"] == []
    assert not read_rollout_transcripts(run, 7)["available"]
    assert not read_rollout_transcripts(run, 1, split="../x")["available"]
    assert not read_rollout_transcripts(str(view_runs["cookbook_rl"]), 1)["available"]


def test_transcripts_cut_long_observations(tmp_path: Path) -> None:
    it = tmp_path / "iteration_000000"
    it.mkdir()
    rec = {"group_idx": 0, "traj_idx": 0, "total_reward": 1.0, "advantage": 0.0, "turns": [
        {"turn_idx": 0, "ob_tokens": list(range(5000)), "ob_text": None, "ac_tokens": [7, 8],
         "ac_logprobs": [-0.1, None], "ac_pieces": None, "reward": 1.0, "episode_done": True}]}
    (it / "train_rollout_tokens.jsonl").write_text(json.dumps(rec) + "\n" + '{"torn": ')
    (turn,) = read_rollout_transcripts(str(tmp_path), 0, max_ob_tokens=10)["trajs"][0]["turns"]
    assert turn["ob_cut"] == 4990 and turn["ob_text"] == " ".join(f"#{i}" for i in range(4990, 5000))
    assert turn["ac"] == [{"id": 7, "t": "#7", "lp": -0.1}, {"id": 8, "t": "#8", "lp": None}]


def test_data_view_matches_the_datum_weights(view_runs: dict[str, Path]) -> None:
    from tinkerlite.renderers import get_renderer
    from tinkerlite.supervised.data import conversation_to_datum, read_conversation_file
    from tinkerlite.tokenizers import get_tokenizer

    config = read_config(str(view_runs["sl"]))
    out = render_examples(config, n=2)
    assert out["available"] and len(out["examples"]) == 2
    tok = get_tokenizer("tinkerlite/tiny-chat")
    _, messages = next(iter(read_conversation_file(out["file_path"])))
    datum = conversation_to_datum(messages, get_renderer("role_colon", tok), None, None, reduction="none")
    ex = out["examples"][0]
    assert ex["n_trained"] == sum(1 for w in datum.loss_fn_inputs["weights"].data if w > 0) > 0
    assert ex["tokens"][0]["t"] == "<|bos|>" and ex["tokens"][0]["w"] == 0.0
    assert "".join(t["t"] for t in ex["tokens"]).startswith("<|bos|>User: ")
    assert not data_source(read_config(str(view_runs["rl"])))["available"]
