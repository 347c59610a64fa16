"""Config field lists, defaults and sync/async nature equal cookbook 0.6.1's (read from its source with ast).

Plus the cookbook's logging surface (``setup_logging``, ``Logger.close``, wandb when asked for) and a DPO
``main`` that is a plain function which really trains.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.official_env import official_source
from tinkerlite.errors import MissingExtraError
from tinkerlite.utils import config as cfg
from tinkerlite.utils.files import read_jsonl
from tinkerlite.utils.ml_log import Logger, MultiplexLogger, WandbLogger, setup_logging

MODEL = "tinkerlite/tiny-chat"

#: (module, class) -> our additions after the cookbook's fields, each deliberate (reason in the value).
CLASSES: dict[tuple[str, str], dict[str, str]] = {
    ("supervised.types", "ChatDatasetBuilderCommonConfig"): {},
    ("supervised.data", "FromConversationFileBuilder"): {
        "common_config": "inherited from ChatDatasetBuilder (the cookbook's too; ast sees only the class body)",
        "prevalidate": "render every row up front so a bad row is reported as file:line before training",
        "reduction": "per-sequence 'mean' (cookbook) or token 'sum' weights",
    },
    ("supervised.train", "Config"): {
        "warmup_steps": "linear warmup before lr_schedule",
        "api_key": "the service key without the environment",
        "show_progress": "the one-line progress display (the cookbook uses rich/wandb)",
    },
    ("rl.train", "KLReferenceConfig"): {},
    ("rl.train", "StreamMinibatchConfig"): {},
    ("rl.train", "AsyncConfig"): {},
    ("rl.train", "Config"): {
        "api_key": "the service key without the environment",
        "kl_reference_model": "shorthand for kl_reference_config=KLReferenceConfig(base_model=...)",
        "error_policy": "tinkerlite's rollout error handling (fail_fast | drop)",
        "max_turns": "turn limit per episode",
        "seed": "reproducible LoRA init and sampling seeds",
        "include_provenance": "provenance spans on datums",
        "show_progress": "the one-line progress display",
    },
    ("preference.train_dpo", "Config"): {
        "reference_model_path": "pin the reference to a sampler checkpoint (resume keeps the same reference)",
        "warmup_steps": "linear warmup before lr_schedule",
        "api_key": "the service key without the environment",
        "show_progress": "the one-line progress display",
    },
    ("preference.dpo_datasets", "DPODatasetBuilderFromComparisons"): {
        "common_config": "inherited from ChatDatasetBuilder",
        "tie_policy": "what to do with tied comparisons (skip | drop | raise)",
    },
    ("distillation.datasets", "TeacherConfig"): {},
    ("distillation.datasets", "DistillationDatasetConfig"): {},
    ("distillation.datasets", "PromptOnlyDatasetBuilder"): {
        "prompts": "in-memory prompts (offline runs)",
        "file_path": "prompts from a local JSONL file (offline runs)",
    },
    ("distillation.train_on_policy", "Config"): {
        "api_key": "the service key without the environment",
        "error_policy": "tinkerlite's rollout error handling (fail_fast | drop)",
        "adam_beta1": "Adam settings, as the other train Configs have",
        "adam_beta2": "Adam settings",
        "adam_eps": "Adam settings",
        "show_progress": "the one-line progress display",
        "extra": "free-form run metadata written to config.json",
    },
}

#: (module, class) -> {field: (our default, why)}: cookbook fields whose default differs on purpose.
DEFAULTS_CHANGED: dict[tuple[str, str], dict[str, tuple[Any, str]]] = {
    ("supervised.train", "Config"): {
        "submit_ahead": (
            4,
            "pipeline depth that keeps the server busy at 100 ms round trips (issue 18, bench/README.md); "
            "steps, metrics and checkpoints equal depth 1's (tests/supervised_e2e/test_default_depth.py)",
        ),
    },
}

REQUIRED, FACTORY = "<required>", "<factory>"


@pytest.fixture(scope="module")
def cookbook() -> Path:
    return official_source("cookbook") / "tinker_cookbook"


def _cookbook_fields(root: Path, module: str, cls: str) -> list[tuple[str, Any]]:
    tree = ast.parse((root / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls)
    out: list[tuple[str, Any]] = []
    for stmt in node.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        value = stmt.value
        if value is None:
            default: Any = REQUIRED
        elif isinstance(value, ast.Call) and ast.unparse(value.func) == "chz.field":
            kw = {k.arg: k.value for k in value.keywords}
            if "default_factory" in kw:
                default = FACTORY
            elif "default" in kw:
                default = ast.literal_eval(kw["default"])
            else:
                default = REQUIRED
        else:
            default = ast.literal_eval(value)
        out.append((stmt.target.id, default))
    return out


def _our_fields(cls: type) -> list[tuple[str, Any]]:
    if cfg.USING_CHZ:
        import chz
        from chz.field import MISSING

        out = []
        for name, f in chz.chz_fields(cls).items():
            if f._default_factory is not MISSING:
                out.append((name, FACTORY))
            else:
                out.append((name, REQUIRED if f._default is MISSING else f._default))
        return out
    return [
        (
            f.name,
            FACTORY
            if f.default_factory is not dataclasses.MISSING
            else (REQUIRED if f.default is dataclasses.MISSING else f.default),
        )
        for f in dataclasses.fields(cls)
    ]


@pytest.mark.network_registry
@pytest.mark.parametrize(("module", "cls"), list(CLASSES), ids=[f"{m}.{c}" for m, c in CLASSES])
def test_fields_equal_the_cookbooks(cookbook: Path, module: str, cls: str) -> None:
    theirs = _cookbook_fields(cookbook, module, cls)
    ours = _our_fields(getattr(importlib.import_module(f"tinkerlite.{module}"), cls))
    their_names = [n for n, _ in theirs]
    ours_common = [(n, d) for n, d in ours if n in their_names]
    assert [n for n, _ in ours_common] == their_names, "missing or reordered cookbook fields"
    changed = DEFAULTS_CHANGED.get((module, cls), {})
    assert all(dict(theirs)[n] != d for n, (d, _) in changed.items()), "a listed default change no longer differs"
    assert ours_common == [(n, changed[n][0] if n in changed else d) for n, d in theirs], "defaults differ"
    extra = {n for n, _ in ours} - set(their_names)
    assert extra == set(CLASSES[(module, cls)]), f"unlisted additions: {extra ^ set(CLASSES[(module, cls)])}"
    tail = [n for n, _ in ours][-len([n for n in extra if n != "common_config"]) :] if extra - {"common_config"} else []
    assert set(tail) == extra - {"common_config"}, "additions come after the cookbook's fields"


SYNC_MODULES = [
    "supervised.train",
    "supervised.types",
    "supervised.data",
    "rl.train",
    "rl.types",
    "preference.train_dpo",
    "preference.dpo_datasets",
    "distillation.train_on_policy",
    "distillation.datasets",
    "eval.evaluators",
    "completers",
]


def _natures(root: Path, module: str) -> Iterator[tuple[str, bool, Any]]:
    tree = ast.parse((root / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
    ours = importlib.import_module(f"tinkerlite.{module}")
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            yield node.name, isinstance(node, ast.AsyncFunctionDef), getattr(ours, node.name, None)
        elif isinstance(node, ast.ClassDef) and hasattr(ours, node.name):
            for m in node.body:
                if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                    not m.name.startswith("_") or m.name == "__call__"
                ):
                    yield (
                        f"{node.name}.{m.name}",
                        isinstance(m, ast.AsyncFunctionDef),
                        getattr(getattr(ours, node.name), m.name, None),
                    )


@pytest.mark.network_registry
@pytest.mark.parametrize("module", SYNC_MODULES)
def test_sync_async_nature_equals_the_cookbooks(cookbook: Path, module: str) -> None:
    wrong = []
    for name, their_async, obj in _natures(cookbook, module):
        if obj is None or isinstance(obj, property):
            continue  # missing names are the signature-diff test's business
        if inspect.iscoroutinefunction(obj) != their_async:
            wrong.append(f"{module}.{name}: cookbook {'async' if their_async else 'sync'}")
    assert not wrong
    ours = importlib.import_module(f"tinkerlite.{module}")
    if module.endswith(("train", "train_dpo", "train_on_policy")):
        assert hasattr(ours, "main")


def test_train_modules_main_nature() -> None:
    from tinkerlite.distillation import train_on_policy
    from tinkerlite.preference import train_dpo
    from tinkerlite.rl import train as rl_train
    from tinkerlite.supervised import train as sl_train

    assert not inspect.iscoroutinefunction(train_dpo.main)  # cookbook: ``main(config)``, a plain function
    for mod in (sl_train, rl_train, train_on_policy):
        assert inspect.iscoroutinefunction(mod.main)  # cookbook: ``asyncio.run(main(config))``


class _FakeRun:
    url = "https://wandb.example/run/1"

    def __init__(self) -> None:
        self.summary: dict[str, Any] = {}


def _fake_wandb(calls: list[Any]) -> types.ModuleType:
    mod = types.ModuleType("wandb")
    run = _FakeRun()

    def init(**kw: Any) -> _FakeRun:
        calls.append(("init", kw))
        return run

    mod.init = init  # type: ignore[attr-defined]
    mod.log = lambda metrics, step=None: calls.append(("log", metrics, step))  # type: ignore[attr-defined]
    mod.finish = lambda: calls.append(("finish",))  # type: ignore[attr-defined]
    mod.config = types.SimpleNamespace(update=lambda d: calls.append(("config", d)))  # type: ignore[attr-defined]
    return mod


def test_setup_logging_with_and_without_wandb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ml = setup_logging(str(tmp_path / "a"), config={"x": 1}, do_configure_logging_module=False)
    assert isinstance(ml, MultiplexLogger) and isinstance(ml, Logger) and ml.get_logger_url() is None
    ml.log_metrics({"loss": 1.0}, step=0)
    ml.close()
    assert read_jsonl(tmp_path / "a" / "metrics.jsonl") == [{"step": 0, "loss": 1.0}]
    assert (tmp_path / "a" / "config.json").exists()

    calls: list[Any] = []
    monkeypatch.setitem(sys.modules, "wandb", _fake_wandb(calls))
    ml = setup_logging(str(tmp_path / "b"), "proj", "name", config={"x": 1}, do_configure_logging_module=True)
    assert any(isinstance(lg, WandbLogger) for lg in ml.loggers)
    ml.log_metrics({"loss": 2.0}, step=3)
    assert ml.get_logger_url() == _FakeRun.url
    ml.close()
    kinds = [c[0] for c in calls]
    assert kinds[0] == "init" and calls[0][1]["project"] == "proj" and calls[0][1]["name"] == "name"
    assert ("log", {"loss": 2.0}, 3) in calls and kinds[-1] == "finish"
    assert (tmp_path / "b" / "logs.log").exists()

    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(MissingExtraError, match=r"tinkerlite\[wandb\]"):
        setup_logging(str(tmp_path / "c"), wandb_project="proj", do_configure_logging_module=False)


def test_wandb_asked_for_and_absent_fails_before_any_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tinkerlite.supervised import train as sl_train
    from tinkerlite.supervised.data import FromConversationFileBuilder
    from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig

    class NoCalls:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"service client used: {name}")

    monkeypatch.setitem(sys.modules, "wandb", None)
    cc = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer=MODEL, renderer_name="role_colon", max_length=32, batch_size=1
    )
    config = sl_train.Config(
        log_path=str(tmp_path),
        model_name=MODEL,
        recipe_name="sl",
        dataset_builder=FromConversationFileBuilder(common_config=cc, file_path="missing.jsonl"),
        wandb_project="p",
    )
    with pytest.raises(MissingExtraError, match="wandb"):
        sl_train.run(config, service_client=NoCalls())


def test_dpo_main_is_a_plain_function_that_trains(tmp_path: Path) -> None:
    pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")
    import tinkerlite.local
    from tinkerlite.preference import train_dpo
    from tinkerlite.preference.dpo_datasets import DPODatasetBuilderFromComparisons
    from tinkerlite.preference.synthetic import make_case_preference_set
    from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig

    train = make_case_preference_set(160, seed=1)
    cc = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer=MODEL, renderer_name="role_colon", max_length=64, batch_size=16
    )
    builder = DPODatasetBuilderFromComparisons(common_config=cc, comparison_builder=lambda: (train, None))
    with tinkerlite.local.serve(api_key="tml-h3") as url:
        config = train_dpo.Config(
            log_path=str(tmp_path),
            model_name=MODEL,
            recipe_name="dpo",
            dataset_builder=builder,
            learning_rate=2e-3,
            lora_rank=8,
            save_every=0,
            max_steps=8,
            lr_schedule="constant",
            base_url=url,
            api_key="tml-h3",
            show_progress=False,
            session_name="h3-dpo",
        )
        out = train_dpo.main(config)
    assert not inspect.isawaitable(out)
    assert out["steps_run"] == 8 and out["sampler_path"]
    rows = read_jsonl(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in rows] == list(range(8))
    losses = [r["dpo_loss"] for r in rows]
    assert sum(losses[-3:]) / 3 < losses[0] - 0.02, losses  # it trained: the preference loss falls


def test_rl_num_epochs_cycles_the_dataset(tmp_path: Path) -> None:
    pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")
    import tinkerlite.local
    from tinkerlite.rl import train as rl_train
    from tinkerlite.rl.envs.digits import DigitsDatasetBuilder

    with tinkerlite.local.serve(api_key="tml-h3") as url:
        config = rl_train.Config(
            learning_rate=1e-2,
            dataset_builder=DigitsDatasetBuilder(batch_size=2, group_size=2, n_batches=2),
            model_name=MODEL,
            recipe_name="rl",
            max_tokens=4,
            log_path=str(tmp_path),
            eval_every=0,
            save_every=0,
            lora_rank=4,
            num_epochs=3,
            base_url=url,
            api_key="tml-h3",
            show_progress=False,
        )
        out = rl_train.run(config)
    assert out["total_steps"] == 6 and out["steps_run"] == 6  # num_epochs passes over 2 batches
    assert [r["step"] for r in read_jsonl(tmp_path / "metrics.jsonl")] == list(range(6))
