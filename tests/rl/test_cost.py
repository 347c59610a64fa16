"""utils.cost_estimation against the cookbook 0.6.1's own module, and the loops' cost/ metrics end to end."""

from __future__ import annotations

import json
import logging
import random
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tests.official_env import official_source
from tinkerlite.utils import cost_estimation
from tinkerlite.utils.cost_estimation import (
    CostTracker,
    TokenCostRates,
    TokenUsage,
    fetch_model_pricing,
    rates_from_pricing_entry,
)
from tinkerlite.utils.cost_report import main as cost_main
from tinkerlite.utils.cost_report import summarize_run

ENTRIES = [
    {"tinker_id": "Qwen/Qwen3-8B", "prefill": "$0.13", "cached_prefill": "$0.026", "sample": "$0.40", "train": "$0.40"},
    {"tinker_id": "Qwen/Qwen3-8B:peft:131072", "prefill": "$1,000.5", "cached_prefill": "0.2", "sample": "$3",
     "train": "$4"},
    {"tinker_id": "x/incomplete", "prefill": "$1", "cached_prefill": "$1", "sample": "n/a", "train": "$1"},
    {"tinker_id": "x/missing", "prefill": "$1", "sample": "$1", "train": "$1"},
]


def _official_module() -> types.ModuleType:
    """The cookbook's cost_estimation.py, executed as is (its only import of the package is __version__)."""
    path = official_source("cookbook") / "tinker_cookbook" / "utils" / "cost_estimation.py"
    text = path.read_text().replace("from tinker_cookbook import __version__", '__version__ = "0.6.1"')
    assert "tinker_cookbook" not in text.replace("tinker_cookbook.utils.cost_estimation", "")
    name = "official_cost_estimation"
    if name not in sys.modules:
        mod = types.ModuleType(name)
        sys.modules[name] = mod  # dataclasses resolve annotations through sys.modules
        exec(compile(text, str(path), "exec"), mod.__dict__)
    return sys.modules[name]


def _usage(mod: Any, u: TokenUsage) -> Any:
    return mod.TokenUsage(sampled=u.sampled, prefill_cached=u.prefill_cached, prefill_uncached=u.prefill_uncached,
                          trained=u.trained)


def test_rates_and_estimates_match_the_cookbook() -> None:
    off = _official_module()
    for entry in ENTRIES:
        ours, theirs = rates_from_pricing_entry(entry), off.rates_from_pricing_entry(entry)
        assert (ours is None) == (theirs is None), entry
        if ours is not None:
            assert vars(ours) == vars(theirs)
    rng = random.Random(0)
    for _ in range(50):
        rates = TokenCostRates(*(rng.uniform(0, 20) for _ in range(4)))
        u = TokenUsage(*(rng.randrange(0, 10**7) for _ in range(4)))
        assert rates.estimate_usd(u) == off.TokenCostRates(*vars(rates).values()).estimate_usd(_usage(off, u))


def test_tracker_metrics_match_the_cookbook_step_by_step() -> None:
    off = _official_module()
    rates = TokenCostRates(2.0, 0.4, 4.0, 6.0)
    ours = CostTracker(rates, cumulative=TokenUsage(trained=7))
    theirs = off.CostTracker(off.TokenCostRates(2.0, 0.4, 4.0, 6.0), cumulative=off.TokenUsage(trained=7))
    rng = random.Random(1)
    for i in range(30):
        u = TokenUsage(*(rng.randrange(0, 5000) for _ in range(4)))
        op = ("record_step", "extend_step", "record_discarded_sampling")[i % 3]
        a, b = getattr(ours, op)(u), getattr(theirs, op)(_usage(off, u))
        assert a == b
        assert ours.cumulative_metrics() == theirs.cumulative_metrics()
    assert CostTracker().record_step(TokenUsage(trained=3)) == off.CostTracker().record_step(off.TokenUsage(trained=3))


@pytest.fixture
def fresh_pricing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(cost_estimation, "_pricing_fetched", False)
    monkeypatch.setattr(cost_estimation, "_pricing_entries", None)
    path = tmp_path / "models.json"
    path.write_text(json.dumps(ENTRIES))
    monkeypatch.setenv("TINKERLITE_PRICING_URL", str(path))
    return path


def test_fetch_reads_the_pricing_once_and_matches_exact_ids(
    fresh_pricing: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rates = fetch_model_pricing("Qwen/Qwen3-8B")
    assert rates == TokenCostRates(0.13, 0.026, 0.40, 0.40)
    assert fetch_model_pricing("Qwen/Qwen3-8B:peft:131072") == TokenCostRates(1000.5, 0.2, 3.0, 4.0)
    fresh_pricing.unlink()  # kept in memory: no second read
    with caplog.at_level(logging.WARNING, logger=cost_estimation.__name__):
        assert fetch_model_pricing("x/incomplete") is None
        assert fetch_model_pricing("Qwen/Qwen3-4B") is None
    assert "incomplete" in caplog.text and "not listed" in caplog.text


def test_a_failed_fetch_means_token_counts_only(
    fresh_pricing: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TINKERLITE_PRICING_URL", str(fresh_pricing.parent / "absent.json"))
    with caplog.at_level(logging.WARNING, logger=cost_estimation.__name__):
        assert fetch_model_pricing("Qwen/Qwen3-8B") is None
    assert "Could not fetch model pricing" in caplog.text
    fresh_pricing.rename(fresh_pricing.parent / "absent.json")
    assert fetch_model_pricing("Qwen/Qwen3-8B") is None  # not retried in this process


def test_local_models_are_never_priced(fresh_pricing: Path) -> None:
    assert fetch_model_pricing("tinkerlite/tiny-chat") is None
    assert cost_estimation._pricing_fetched is False


RATES = TokenCostRates(2.0, 0.4, 4.0, 6.0)


def test_rl_loop_logs_cost_resumes_totals_and_cli_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("numpy")
    import tinkerlite.local
    import tinkerlite.rl.train as rl_train
    from tinkerlite.checkpoint_utils import load_checkpoints_file
    from tinkerlite.rl.envs.digits import DigitsDatasetBuilder

    monkeypatch.setattr(rl_train, "fetch_model_pricing", lambda name: RATES)
    log = tmp_path / "run"

    def config(n_batches: int, url: str) -> rl_train.Config:
        return rl_train.Config(
            log_path=str(log), model_name="tinkerlite/tiny-chat", recipe_name="rl",
            dataset_builder=DigitsDatasetBuilder(batch_size=2, group_size=2, n_batches=n_batches),
            learning_rate=1e-2, max_tokens=4, lora_rank=4, base_url=url, api_key="tml-local",
            eval_every=0, save_every=1, show_progress=False, max_steps=n_batches,
        )

    with tinkerlite.local.serve(api_key="tml-local", state_dir=str(tmp_path / "server")) as url:
        rl_train.run(config(2, url))
        rl_train.run(config(3, url))  # resumes from step 2
    rows = [json.loads(line) for line in (log / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "tokens/trained" in r]
    assert [r["step"] for r in steps] == [0, 1, 2]
    total = TokenUsage()
    for r in steps:
        u = TokenUsage(*(int(r[f"tokens/{k}"]) for k in ("sampled", "prefill_cached", "prefill_uncached", "trained")))
        assert u.sampled > 0 and u.prefill_uncached > 0 and u.trained >= u.sampled
        assert r["cost/step_usd"] == pytest.approx(RATES.estimate_usd(u))
        total += u
        discarded = TokenUsage(*(int(r[f"tokens/discarded/{k}"]) for k in ("sampled", "prefill_cached",
                                                                             "prefill_uncached", "trained")))
        assert r["tokens/cumulative/sampled"] == total.sampled + discarded.sampled  # across the resume too
        assert r["tokens/cumulative/trained"] == total.trained
        assert r["cost/cumulative_usd"] == pytest.approx(RATES.estimate_usd(total + discarded))
    records = load_checkpoints_file(str(log))
    assert records[-1].get("cumulative_tokens")["trained"] == total.trained

    assert cost_main([str(log)]) == 0
    out = capsys.readouterr().out
    assert f"trained {total.trained:,}" in out and "steps:  3" in out and "(logged by the run)" in out
    assert summarize_run(log).logged_usd == pytest.approx(steps[-1]["cost/cumulative_usd"])


def test_cost_cli_estimates_from_pricing_and_names_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "sl"
    log.mkdir()
    (log / "config.json").write_text(json.dumps({"model_name": "Qwen/Qwen3-8B"}))
    rows = [{"step": i, "tokens/cumulative/trained": 1_000_000 * (i + 1), "tokens/cumulative/sampled": 0}
            for i in range(2)]
    (log / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pricing = tmp_path / "models.json"
    pricing.write_text(json.dumps(ENTRIES))
    assert cost_main([str(log)]) == 0
    assert "no USD estimate" in capsys.readouterr().out
    assert cost_main([str(log), "--pricing", str(pricing)]) == 0
    assert "$0.8000 (estimated from --pricing)" in capsys.readouterr().out  # 2M trained at $0.40/M
    assert cost_main([str(log), "--pricing", str(pricing), "--model", "x/incomplete"]) == 2
    assert "x/incomplete" in capsys.readouterr().err
    assert cost_main([str(tmp_path / "nope")]) == 2
    assert "metrics.jsonl not found" in capsys.readouterr().err


def test_dpo_loop_logs_cost_and_checkpoints_totals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numpy")
    import tinkerlite.local
    import tinkerlite.preference.train_dpo as dpo
    from tinkerlite.client.service_client import ServiceClient
    from tinkerlite.preference.dpo_datasets import DPODatasetBuilderFromComparisons
    from tinkerlite.preference.synthetic import make_case_preference_set
    from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig

    monkeypatch.setattr(dpo, "fetch_model_pricing", lambda name: RATES)
    train = make_case_preference_set(16, seed=1)
    cc = ChatDatasetBuilderCommonConfig(model_name_for_tokenizer="tinkerlite/tiny-chat", renderer_name="role_colon",
                                        max_length=64, batch_size=4)

    def config(max_steps: int) -> dpo.Config:
        return dpo.Config(
            log_path=str(tmp_path), model_name="tinkerlite/tiny-chat", recipe_name="dpo",
            dataset_builder=DPODatasetBuilderFromComparisons(
                common_config=cc, comparison_builder=lambda: (train, None)
            ),
            learning_rate=1e-3, dpo_beta=0.1, lora_rank=4, save_every=1, show_progress=False, max_steps=max_steps,
        )

    with tinkerlite.local.serve(api_key="tml-local") as url:
        service = ServiceClient(base_url=url, api_key="tml-local")
        dpo.run(config(3), service_client=service)
        service.close()
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "tokens/trained" in r]
    assert [r["step"] for r in steps] == [0, 1, 2]
    total = 0
    for r in steps:
        assert r["tokens/trained"] == r["num_tokens"] and r["tokens/prefill_uncached"] > 0
        assert r["cost/step_usd"] == pytest.approx(RATES.estimate_usd(TokenUsage(
            prefill_uncached=r["tokens/prefill_uncached"], trained=r["tokens/trained"])))
        total += r["tokens/trained"]
        assert r["tokens/cumulative/trained"] == total
    from tinkerlite.checkpoint_utils import load_checkpoints_file

    records = load_checkpoints_file(str(tmp_path))  # what a resume restores the totals from
    by_step = {r["step"]: r for r in steps}
    for rec in records[:-1]:
        assert rec.get("cumulative_tokens")["trained"] == by_step[rec.get("step") - 1]["tokens/cumulative/trained"]
    assert records[-1].get("cumulative_tokens")["trained"] == total


def test_discarded_work_log_and_drop_constant_reward_group() -> None:
    from tests.rl.conftest import reward_group
    from tinkerlite.rl.train import DiscardedWorkLog, drop_constant_reward_group

    class Summary:
        def __init__(self) -> None:
            self.rows: list[dict[str, float]] = []

        def log_summary(self, metrics: dict[str, float]) -> None:
            self.rows.append(metrics)

    now = [0.0]
    tracker = CostTracker(RATES)
    ml = Summary()
    log = DiscardedWorkLog(tracker, ml, interval_seconds=10, clock=lambda: now[0])
    cfg = types.SimpleNamespace(remove_constant_reward_groups=True)
    flat, mixed = reward_group([1.0, 1.0]), reward_group([0.0, 1.0])
    assert drop_constant_reward_group(mixed, cfg, tracker, log) is mixed  # type: ignore[arg-type]
    assert drop_constant_reward_group(flat, cfg, tracker, log) is None  # type: ignore[arg-type]
    assert tracker.discarded == TokenUsage(sampled=2, prefill_uncached=4) == tracker.cumulative
    assert ml.rows == []  # within the interval
    now[0] = 11.0
    drop_constant_reward_group(flat, cfg, tracker, log)  # type: ignore[arg-type]
    assert ml.rows and ml.rows[-1]["tokens/discarded/sampled"] == 4
    assert ml.rows[-1]["cost/discarded_usd"] == pytest.approx(RATES.estimate_usd(TokenUsage(sampled=4,
                                                                                            prefill_uncached=8)))
    log.step_logged()
    cfg_off = types.SimpleNamespace(remove_constant_reward_groups=False)
    assert drop_constant_reward_group(flat, cfg_off, tracker, log) is flat  # type: ignore[arg-type]


def test_cost_is_a_tinkerlite_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tinkerlite.__main__ import main

    (tmp_path / "metrics.jsonl").write_text(json.dumps({"step": 0, "tokens/cumulative/trained": 5,
                                                        "cost/cumulative_usd": 0.25}) + "\n")
    assert main(["cost", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "trained 5" in out and "$0.2500 (logged by the run)" in out
    assert main(["--help"]) == 0 and "cost" in capsys.readouterr().out


def test_supervised_loop_logs_cost_and_prints_a_running_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("numpy")
    import tinkerlite.local
    import tinkerlite.supervised.train as sl
    from tests.supervised_e2e.helpers import API_KEY, small_config, write_small_dataset
    from tinkerlite.utils.config import replace

    monkeypatch.setattr(sl, "fetch_model_pricing", lambda name: RATES)
    data = write_small_dataset(tmp_path / "data.jsonl", 24)
    with tinkerlite.local.serve(api_key=API_KEY) as url:
        cfg = replace(small_config(tmp_path / "log", data, url, max_steps=3), show_progress=True)
        sl.run(cfg)
    rows = [json.loads(line) for line in (tmp_path / "log" / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "tokens/trained" in r]
    total = 0
    for r in steps:
        total += r["num_tokens"]
        assert r["tokens/trained"] == r["num_tokens"] and r["tokens/sampled"] == 0
        assert r["cost/step_usd"] == pytest.approx(r["num_tokens"] * 6.0 / 1e6)
        assert r["cost/cumulative_usd"] == pytest.approx(total * 6.0 / 1e6)
    printed = capsys.readouterr()
    assert f"~${steps[-1]['cost/cumulative_usd']:.4f}" in printed.out + printed.err
