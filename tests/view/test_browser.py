"""The page in a real headless Chromium (DevTools protocol, no selenium), over real ``sl`` and ``rl`` runs.

Each view is loaded, its drawing asserted in the DOM, and screenshotted into the test's tmp dir (the path is
printed). No console error may be logged anywhere. Skipped only when no Chromium is installed
(``apt-get install -y chromium``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.view.cdp import Browser, find_chromium
from tinkerlite.view.transcripts import read_rollout_transcripts

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install -y chromium)")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    assert CHROMIUM is not None
    b = Browser(CHROMIUM, str(tmp_path / "profile"))
    try:
        yield b
    finally:
        b.close()


def _tab(b: Browser, url: str, tab: str) -> None:
    b.goto(url + "#" + tab)
    b.wait(f"document.getElementById('view') && document.getElementById('view').getAttribute('data-ready') === '{tab}'")


def _select(b: Browser, ids: list[int], tab: str) -> None:
    b.eval("document.getElementById('view').removeAttribute('data-ready')")
    b.eval(f"TL.state.selected = {json.dumps(ids)}; TL.state.charts = null; TL.render()")
    b.wait(f"document.getElementById('view').getAttribute('data-ready') === '{tab}'")


def _ids(srv: Any) -> dict[str, int]:
    return {os.path.basename(r["path"]): r["id"] for r in srv.registry.summaries()}


def test_every_view_draws_with_no_console_error(
    view_runs: dict[str, Path], serve_view: Any, browser: Browser, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    srv = serve_view([str(view_runs["root"])])
    ids = _ids(srv)
    b, url = browser, srv.url

    _tab(b, url, "runs")
    assert b.eval("document.querySelectorAll('#runs-table tr[data-run]').length") == 3
    statuses = b.eval("Array.from(document.querySelectorAll('#runs-table .badge')).map(e => e.textContent).sort()")
    assert statuses == ["crashed", "finished", "finished"]
    b.screenshot(str(shots / "runs.png"))

    # curves: train and test NLL together, the LR schedule; EMA, log y, hover, zoom, export
    _tab(b, url, "curves")
    _select(b, [ids["sl"]], "curves")
    keys = b.eval("Array.from(document.querySelectorAll('#charts .chart-box')).map(e => e.dataset.keys)")
    assert "train_mean_nll,test/nll" in keys and "learning_rate" in keys
    nll = "document.querySelector('.chart-box[data-keys=\"train_mean_nll,test/nll\"]')"
    assert b.eval(f"{nll}.querySelectorAll('path.tl-line').length") == 2
    assert b.eval(f"({nll}.querySelector('path.tl-line').getAttribute('d').match(/L/g) || []).length") == 5
    b.eval("const e = document.getElementById('ema'); e.value = 0.6; e.dispatchEvent(new Event('input'))")
    assert b.eval(f"{nll}.querySelectorAll('path.tl-raw').length") == 2
    b.eval("const l = document.getElementById('logy'); l.checked = true; l.dispatchEvent(new Event('change'))")
    assert b.eval("TL.state.logY") is True
    box = b.eval(
        f"(() => {{ const r = {nll}.querySelector('svg').getBoundingClientRect(); "
        "return [r.left, r.top, r.width, r.height]; })()"
    )
    x, y = box[0] + box[2] * 0.5, box[1] + box[3] * 0.5
    b.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
    tip = b.wait(f"(() => {{ const t = {nll}.querySelector('.tl-tip'); return t && !t.hidden && t.textContent; }})()")
    assert "train_mean_nll @" in tip
    b.screenshot(str(shots / "curves_hover.png"))
    b.send("Input.dispatchMouseEvent", type="mousePressed", x=x - 80, y=y, button="left", clickCount=1)
    b.send("Input.dispatchMouseEvent", type="mouseMoved", x=x + 40, y=y, button="left")
    b.send("Input.dispatchMouseEvent", type="mouseReleased", x=x + 40, y=y, button="left", clickCount=1)
    zoom = b.eval("TL.state.zooms['train_mean_nll,test/nll']")
    assert zoom is not None and zoom[0] < zoom[1] and zoom[1] - zoom[0] < 6
    svg = b.eval("TL.state.chartObjs[0].toSVGString()")
    assert svg.startswith("<?xml") and "<path" in svg and 'visibility="hidden"' not in svg
    png = b.eval("new Promise(r => TL.state.chartObjs[0].exportPNG('x', r, true))", await_promise=True)
    assert png.startswith("data:image/png;base64,") and len(png) > 2000
    b.screenshot(str(shots / "curves.png"))

    # overlay: two runs' curves on one chart
    _select(b, [ids["rl"], ids["cookbook_rl"]], "curves")
    reward = "document.querySelector('.chart-box[data-keys^=\"env/all/reward/total\"]')"
    colours = b.eval(f"Array.from({reward}.querySelectorAll('path.tl-line')).map(p => p.getAttribute('stroke'))")
    assert len(set(colours)) == 2
    # loss:sum of a group-centred RL step is ~±1e-7 (its sign varies by step): on the log scale the chart
    # draws the positive points if there are any, and says why it is empty if there are none.
    losses = [
        r["loss:sum"] for run in ("rl", "cookbook_rl")
        for r in map(json.loads, (view_runs[run] / "metrics.jsonl").read_text().splitlines()) if "loss:sum" in r
    ]
    assert losses
    loss_box = "document.querySelector('.chart-box[data-keys=\"loss:sum\"]')"
    if any(v > 0 for v in losses):
        assert b.eval(f"{loss_box}.querySelector('.tl-empty') === null")
        assert b.eval(f"{loss_box}.querySelectorAll('path.tl-line').length") >= 1
    else:
        assert b.eval(f"{loss_box}.querySelector('.tl-empty').textContent") == "no value > 0 to show on a log scale"
    b.screenshot(str(shots / "curves_overlay.png"))

    # compare configs
    _tab(b, url, "compare")
    _select(b, [ids["sl"], ids["rl"]], "compare")
    diff = b.eval("Array.from(document.querySelectorAll('#compare-table tr.diff td.key')).map(e => e.textContent)")
    assert "learning_rate" in diff and "recipe_name" in diff
    same = b.eval(
        "Array.from(document.querySelectorAll('#compare-table tr:not(.diff) td.key')).map(e => e.textContent)"
    )
    assert "model_name" in same
    b.screenshot(str(shots / "compare.png"))

    # checkpoints + playground: checkpoint vs base model, tokens coloured by logprob, alternatives on hover
    _tab(b, url, "checkpoints")
    _select(b, [ids["sl"]], "checkpoints")
    assert b.eval("document.querySelectorAll('#ckpt-table tr.ckpt-row').length") >= 1
    assert "tinker://" in b.eval("document.querySelector('#ckpt-table tr.ckpt-row').textContent")
    assert b.eval("document.getElementById('play-a').value").startswith("tinker://")
    assert b.eval("document.getElementById('play-b').value") == ""
    b.eval("document.getElementById('play-max').value = 8; document.getElementById('play-go').click()")
    b.wait("document.querySelectorAll('#play-out [data-done=\"1\"]').length === 2", timeout=120)
    n_tok = b.eval("document.querySelectorAll('#play-out .tok.sampled').length")
    assert n_tok >= 4
    assert b.eval("document.querySelectorAll('#play-out [data-col=\"0\"] .sample').length") == 2
    assert b.eval("document.querySelector('#play-out .tok.sampled').style.background").startswith("rgb")
    r = b.eval(
        "(() => { const s = document.querySelector('#play-out .tok.sampled').getBoundingClientRect(); "
        "return [s.left + 2, s.top + s.height / 2]; })()"
    )
    b.send("Input.dispatchMouseEvent", type="mouseMoved", x=r[0], y=r[1])
    tip = b.wait("(() => { const t = document.getElementById('tok-tip'); return !t.hidden && t.textContent; })()")
    assert "logprob" in tip and "top:" in tip
    b.screenshot(str(shots / "checkpoints.png"))

    # data: tokens coloured by weight, special tokens marked
    _tab(b, url, "data")
    counts = b.eval(
        "['trained', 'prompt', 'special'].map(c => document.querySelectorAll('.data-example .tok.' + c).length)"
    )
    assert all(c > 0 for c in counts), counts
    assert b.eval("document.querySelector('.data-example .tok').textContent") == "<|bos|>"
    first = b.eval("document.querySelector('#view h4').textContent")
    assert first.startswith("line 1:")
    b.eval(
        "document.getElementById('view').removeAttribute('data-ready'); document.getElementById('data-next').click()"
    )
    b.wait("document.getElementById('view').getAttribute('data-ready') === 'data'")
    assert b.eval("document.querySelector('#view h4').textContent").startswith("line 5:")
    b.screenshot(str(shots / "data.png"))

    # rollouts: tinkerlite's rl run writes transcripts with per-token logprobs, coloured; the reward filter applies
    _tab(b, url, "rollouts")
    _select(b, [ids["rl"]], "rollouts")
    assert b.eval("document.getElementById('tok-tip').hidden")  # no stale token tip from the previous view
    # iteration 0: the 32 train rollouts and the step-0 test-set rollouts, each with its transcript
    expected = [
        read_rollout_transcripts(str(view_runs["rl"]), 0, split)["trajs"] for split in ("train", "eval_test")
    ]
    n_traj = sum(len(x) for x in expected)
    n_ac = sum(len(turn["ac"]) for x in expected for t in x for turn in t["turns"])
    assert len(expected[0]) == 32 and n_ac >= 32 * 6
    b.wait(f"document.getElementById('rollout-list').getAttribute('data-transcripts') === '{n_traj}'")
    assert b.eval("document.querySelectorAll('#rollout-list tr.traj').length") == n_traj
    assert b.eval("document.querySelectorAll('#rollout-list td.transcript').length") == n_traj
    assert b.eval("document.querySelectorAll('#rollout-list .turn .tok.ob').length") == n_traj
    n_tok = b.eval("document.querySelectorAll('#rollout-list .turn .tok.sampled').length")
    coloured = b.eval(
        "Array.from(document.querySelectorAll('#rollout-list .turn .tok.sampled'))"
        ".filter(e => e.style.background.startsWith('rgb') && e.hasAttribute('data-lp')).length"
    )
    assert n_tok == coloured == n_ac  # every sampled token has its logprob
    b.eval(
        "const t = document.querySelector('#rollout-list .tok.sampled'); const r = t.getBoundingClientRect();"
        "t.dispatchEvent(new MouseEvent('mouseenter', {clientX: r.left + 1, clientY: r.top + 1}))"
    )
    tip = b.eval("document.getElementById('tok-tip').textContent")
    assert not b.eval("document.getElementById('tok-tip').hidden") and "logprob -" in tip and "token " in tip
    b.screenshot(str(shots / "rollouts_transcripts.png"))
    b.eval("document.getElementById('tok-tip').hidden = true")
    rewards = sorted(b.eval(
        "Array.from(document.querySelectorAll('#rollout-list tr.traj')).map(r => +r.children[1].textContent)"
    ))
    cut = rewards[len(rewards) // 2]
    b.eval(f"const m0 = document.getElementById('reward-min'); m0.value = {cut}; m0.dispatchEvent(new Event('input'))")
    kept = b.eval("document.querySelectorAll('#rollout-list tr.traj').length")
    assert 0 < kept < n_traj or cut == rewards[0]
    b.wait(f"document.getElementById('rollout-list').getAttribute('data-transcripts') === '{kept}'")
    assert b.eval("document.querySelectorAll('#rollout-list td.transcript').length") == kept
    b.eval("const m1 = document.getElementById('reward-min'); m1.value = ''; m1.dispatchEvent(new Event('input'))")
    # the cookbook's own files (summaries, no token sidecar): groups and lengths, no transcripts
    _select(b, [ids["cookbook_rl"]], "rollouts")
    assert b.eval("document.querySelectorAll('#rollout-list tr.traj').length") == 8
    assert b.eval("document.getElementById('rollout-list').getAttribute('data-transcripts')") == "none"
    b.eval("const s = document.getElementById('iter-sel'); s.value = '1'; s.dispatchEvent(new Event('change'))")
    b.eval("const m = document.getElementById('reward-min'); m.value = 0.5; m.dispatchEvent(new Event('input'))")
    assert b.eval("document.querySelectorAll('#rollout-list tr.traj').length") == 4
    assert b.eval("document.querySelectorAll('#rollout-list td.pos').length") == 4
    # reward mean per iteration with a min/max band across the trajectories
    assert b.eval("document.querySelectorAll('#rollout-chart path.tl-line').length") == 1
    assert b.eval("document.querySelectorAll('#rollout-chart polygon.tl-band').length") == 1
    b.screenshot(str(shots / "rollouts.png"))

    # cost and tokens
    _tab(b, url, "cost")
    _select(b, [ids["sl"], ids["rl"]], "cost")
    rows = b.eval(
        "Array.from(document.querySelectorAll('#cost-table tr.cost-row')).map(r => r.children[1].textContent)"
    )
    assert len(rows) == 2 and all(x not in ("–", "0") for x in rows)
    assert b.eval("document.querySelectorAll('#cost-charts .chart-box').length") >= 2
    b.screenshot(str(shots / "cost.png"))

    assert b.errors == [], b.errors
    print(f"\nscreenshots: {shots}")
    assert len(list(shots.glob("*.png"))) == 10


def test_an_rl_run_without_rollout_files_shows_its_reward_table(
    view_runs: dict[str, Path], serve_view: Any, browser: Browser, tmp_path: Path
) -> None:
    srv = serve_view([str(view_runs["rl_metrics_only"])])
    _tab(browser, srv.url, "rollouts")
    assert "rollout_summaries.jsonl" in browser.eval("document.getElementById('rollouts-reason').textContent")
    assert browser.eval("document.querySelectorAll('#reward-table tr').length") == 5  # header, steps 0-2, final eval
    browser.screenshot(str(tmp_path / "rollouts_metrics_only.png"))
    assert browser.errors == [], browser.errors


def test_a_dpo_run_shows_its_loss_and_says_why_no_data_view(
    view_runs: dict[str, Path], serve_view: Any, browser: Browser, tmp_path: Path
) -> None:
    srv = serve_view([str(view_runs["dpo"])])
    _tab(browser, srv.url, "curves")
    keys = browser.eval("Array.from(document.querySelectorAll('#charts .chart-box')).map(e => e.dataset.keys)")
    assert "dpo_loss,test/dpo_loss" in keys and "accuracy,test/accuracy" in keys
    assert browser.eval("document.querySelectorAll('#charts path.tl-line').length") >= 4
    browser.screenshot(str(tmp_path / "dpo_curves.png"))
    _tab(browser, srv.url, "data")
    assert "not a conversation file" in browser.eval("document.getElementById('data-reason').textContent")
    assert browser.errors == [], browser.errors


def test_live_rows_appear_without_reload(
    view_runs: dict[str, Path], serve_view: Any, browser: Browser, tmp_path: Path
) -> None:
    root = tmp_path / "runs"
    live = root / "live"
    shutil.copytree(view_runs["sl"], live, ignore=shutil.ignore_patterns("server", "checkpoints.jsonl"))
    rows = (live / "metrics.jsonl").read_text().splitlines(keepends=True)
    (live / "metrics.jsonl").write_text("".join(rows[:3]))
    srv = serve_view([str(root)])
    _tab(browser, srv.url, "curves")
    assert browser.eval("TL.state.byId[0].status") == "running"
    nll = "document.querySelector('.chart-box[data-keys^=\"train_mean_nll\"] path.tl-line')"
    assert browser.eval(f"({nll}.getAttribute('d').match(/L/g) || []).length") == 2
    with open(live / "metrics.jsonl", "a") as f:
        f.write("".join(rows[3:]))
    browser.wait(f"({nll}.getAttribute('d').match(/L/g) || []).length === 5", timeout=15)
    assert browser.wait("document.querySelector('[data-run-rows=\"0\"]').textContent") == "7r"
    assert browser.eval("document.getElementById('live').textContent").startswith("live:")
    browser.screenshot(str(tmp_path / "live.png"))
    assert browser.errors == [], browser.errors


def test_static_snapshot_opens_from_disk(view_runs: dict[str, Path], browser: Browser, tmp_path: Path) -> None:
    from tinkerlite.view.snapshot import export_snapshot

    out = tmp_path / "snap"
    export_snapshot([str(view_runs["root"])], str(out))
    url = (out / "index.html").as_uri()
    _tab(browser, url, "curves")
    assert browser.eval("document.querySelectorAll('#charts path.tl-line').length") >= 1
    _tab(browser, url, "checkpoints")
    assert browser.eval("document.getElementById('play-go').disabled") is True
    assert browser.eval("document.querySelectorAll('#ckpt-table tr.ckpt-row').length") >= 1
    browser.screenshot(str(tmp_path / "snapshot.png"))
    assert browser.errors == [], browser.errors


def test_time_to_first_chart_on_a_100k_row_run(serve_view: Any, browser: Browser, tmp_path: Path) -> None:
    run = tmp_path / "big"
    run.mkdir()
    with open(run / "metrics.jsonl", "w") as f:
        for i in range(100_000):
            f.write(
                json.dumps(
                    {"step": i, "train_mean_nll": 5.0 / (1 + i / 1000), "learning_rate": 1e-4, "time/total": 0.5}
                )
                + "\n"
            )
    (run / "config.json").write_text(json.dumps({"model_name": "tinkerlite/tiny-chat", "recipe_name": "sl"}))
    srv = serve_view([str(tmp_path)])
    t0 = time.perf_counter()
    _tab(browser, srv.url, "curves")
    browser.wait("document.querySelectorAll('#charts path.tl-line').length >= 2")
    elapsed = time.perf_counter() - t0
    n_points = browser.eval("TL.state.metrics[0].series.train_mean_nll.length")
    print(f"\ntime to first chart, 100k rows: {elapsed:.2f} s ({n_points} points drawn per curve)")
    assert n_points <= 2000 and elapsed < 60
    assert browser.errors == [], browser.errors
