"""Our configs and builders under chz behave as the cookbook's: subclassing, replace, blueprints, entrypoints.

And without chz (import blocked in a subprocess) the same classes are frozen keyword-only dataclasses.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("chz")

import chz

from tinkerlite.distillation import train_on_policy
from tinkerlite.distillation.datasets import DistillationDatasetConfig, PromptOnlyDatasetBuilder, TeacherConfig
from tinkerlite.errors import MissingExtraError, ValidationError
from tinkerlite.preference import train_dpo
from tinkerlite.preference.dpo_datasets import DPODatasetBuilderFromComparisons
from tinkerlite.rl import train as rl_train
from tinkerlite.rl.envs.arithmetic import ArithmeticDatasetBuilder
from tinkerlite.rl.types import RLDataset, RLDatasetBuilder
from tinkerlite.supervised import train as sl_train
from tinkerlite.supervised.data import FromConversationFileBuilder
from tinkerlite.supervised.types import (
    ChatDatasetBuilder,
    ChatDatasetBuilderCommonConfig,
    SupervisedDataset,
    SupervisedDatasetBuilder,
)
from tinkerlite.utils import config as cfg
from tinkerlite.utils.ml_log import dump_config

ROOT = Path(__file__).resolve().parents[2]
MODEL = "tinkerlite/tiny-chat"


def _common(**kw: Any) -> ChatDatasetBuilderCommonConfig:
    base: dict[str, Any] = dict(model_name_for_tokenizer=MODEL, renderer_name="role_colon", max_length=64, batch_size=2)
    base.update(kw)
    return ChatDatasetBuilderCommonConfig(**base)


class _Empty(SupervisedDataset):
    def __len__(self) -> int:
        return 0


def test_mechanism_uses_chz_when_installed() -> None:
    assert cfg.USING_CHZ
    for cls in (
        SupervisedDatasetBuilder,
        ChatDatasetBuilder,
        ChatDatasetBuilderCommonConfig,
        FromConversationFileBuilder,
        DPODatasetBuilderFromComparisons,
        RLDatasetBuilder,
        ArithmeticDatasetBuilder,
        PromptOnlyDatasetBuilder,
        TeacherConfig,
        DistillationDatasetConfig,
        sl_train.Config,
        rl_train.Config,
        rl_train.AsyncConfig,
        rl_train.KLReferenceConfig,
        train_dpo.Config,
        train_on_policy.Config,
    ):
        assert chz.is_chz(cls), cls


def test_user_chz_subclasses_of_every_builder_base() -> None:
    @chz.chz
    class MySL(SupervisedDatasetBuilder):
        n: int = 3

        def __call__(self) -> tuple[SupervisedDataset, SupervisedDataset | None]:
            return _Empty(), None

    @chz.chz
    class MyChat(ChatDatasetBuilder):
        path: str

        def __call__(self) -> tuple[SupervisedDataset, SupervisedDataset | None]:
            return _Empty(), None

    @chz.chz
    class MyRL(RLDatasetBuilder):
        k: int = 1

        async def __call__(self) -> tuple[RLDataset, RLDataset | None]:
            raise RuntimeError(f"k={self.k}")

    @chz.chz
    class MyFile(FromConversationFileBuilder):
        extra_tag: str = "x"

    assert MySL(n=4).n == 4 and MySL()()[1] is None
    chat = MyChat(common_config=_common(), path="p")
    assert chat.renderer.__class__.__name__  # the base's properties work on the subclass
    assert chz.replace(chat, path="q").path == "q"
    with pytest.raises(RuntimeError, match="k=2"):
        asyncio.run(MyRL(k=2)())
    f = MyFile(common_config=_common(), file_path="a.jsonl")
    assert (f.test_size, f.shuffle_seed, f.extra_tag) == (0, 0, "x")
    with pytest.raises(TypeError, match="keyword"):
        ChatDatasetBuilderCommonConfig(MODEL, "role_colon", 64, 2)  # type: ignore[misc]


def test_user_comparison_builder_feeds_dpo() -> None:
    from tinkerlite.preference.preference_datasets import ComparisonDatasetBuilder
    from tinkerlite.preference.synthetic import make_case_preference_set
    from tinkerlite.preference.types import LabeledComparison

    rows = make_case_preference_set(12, seed=2)

    @chz.chz
    class MyComparisons(ComparisonDatasetBuilder):  # as the cookbook's recipes write them
        n_test: int = 4

        def get_train_and_test_datasets(self) -> tuple[Any, Any | None]:
            return [{"i": i} for i in range(self.n_test, len(rows))], [{"i": i} for i in range(self.n_test)]

        def example_to_labeled_comparison(self, example: dict[str, Any]) -> LabeledComparison | None:
            return rows[example["i"]]

    builder = DPODatasetBuilderFromComparisons(common_config=_common(batch_size=4), comparison_builder=MyComparisons())
    train, test = builder()
    assert train.stats.num_pairs == 8 and len(train) == 2
    assert test is not None and len(test.get_batch(0)) == 2 * 4  # chosen and rejected of each test pair
    assert chz.replace(builder, comparison_builder=MyComparisons(n_test=0))()[1] is None


def test_replace_frozen_and_inspection() -> None:
    builder = FromConversationFileBuilder(common_config=_common(), file_path="a.jsonl")
    config = sl_train.Config(log_path="~/runs/x", model_name=MODEL, recipe_name="sl", dataset_builder=builder)
    assert config.log_path == str(Path("~/runs/x").expanduser())  # the cookbook's munger
    with pytest.raises(Exception, match="Cannot modify field"):
        config.learning_rate = 1.0  # type: ignore[misc]
    lr = chz.replace(config, learning_rate=3e-4)
    assert lr.learning_rate == 3e-4 and config.learning_rate == 1e-4
    assert cfg.replace(config, max_steps=2).max_steps == 2
    fields = chz.chz_fields(sl_train.Config)
    assert list(fields)[:6] == [
        "log_path",
        "model_name",
        "recipe_name",
        "load_checkpoint_path",
        "renderer_name",
        "dataset_builder",
    ]
    dumped = dump_config(config)
    assert dumped["dataset_builder"]["common_config"]["batch_size"] == 2
    assert dumped["wandb_project"] is None and dumped["__class__"].endswith("supervised.train.Config")
    assert chz.asdict(config)["dataset_builder"]["file_path"] == "a.jsonl"


def test_blueprint_overrides_and_nested_entrypoint(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = [
        "log_path=/tmp/h3-run",
        f"model_name={MODEL}",
        "recipe_name=sl",
        "dataset_builder=tinkerlite.supervised.data:FromConversationFileBuilder",
        "dataset_builder.file_path=data.jsonl",
        "dataset_builder.test_size=5",
        f"dataset_builder.common_config.model_name_for_tokenizer={MODEL}",
        "dataset_builder.common_config.renderer_name=role_colon",
        "dataset_builder.common_config.max_length=128",
        "dataset_builder.common_config.batch_size=4",
        "learning_rate=3e-4",
        "max_steps=7",
        "wandb_name=my-run",
    ]
    config = chz.Blueprint(sl_train.Config).make_from_argv(argv)
    assert isinstance(config.dataset_builder, FromConversationFileBuilder)
    assert config.dataset_builder.test_size == 5 and config.dataset_builder.common_config.batch_size == 4
    assert (config.learning_rate, config.max_steps, config.wandb_name) == (3e-4, 7, "my-run")

    seen: list[Any] = []

    def main(config: sl_train.Config) -> None:
        seen.append(config)

    chz.nested_entrypoint(main, argv=argv)
    assert seen == [config]

    with pytest.raises(Exception, match="max_steps"):
        chz.Blueprint(sl_train.Config).make_from_argv([*argv, "max_steps=seven"])
    with pytest.raises(Exception, match="lerning_rate"):
        chz.Blueprint(sl_train.Config).make_from_argv([*argv, "lerning_rate=1"])


def test_blueprint_on_rl_and_distillation_configs() -> None:
    rl = chz.Blueprint(rl_train.Config).make_from_argv(
        [
            "learning_rate=1e-4",
            f"model_name={MODEL}",
            "recipe_name=rl",
            "max_tokens=8",
            "log_path=/tmp/h3-rl",
            "dataset_builder=tinkerlite.rl.envs.arithmetic:ArithmeticDatasetBuilder",
            "dataset_builder.batch_size=2",
            f"dataset_builder.model_name_for_tokenizer={MODEL}",
            "dataset_builder.renderer_name=role_colon",
            "dataset_builder.n_batches=3",
            "dataset_builder.group_size=4",
            "async_config.max_steps_off_policy=1",
            "async_config.groups_per_batch=2",
            "kl_reference_config.base_model=other/model",
        ]
    )
    assert rl.async_config is not None and rl.training_loss_fn() == "stable_reinforce"
    assert rl.kl_reference_base_model() == "other/model"
    dist = chz.Blueprint(PromptOnlyDatasetBuilder).make_from_argv(
        [
            "dataset_name=deepmath",
            "groups_per_batch=2",
            "group_size=2",
            f"model_name_for_tokenizer={MODEL}",
            "renderer_name=role_colon",
        ]
    )
    assert dist.max_prompt_tokens == 1024 and dist.prompts is None  # no prompts= needed, as in the cookbook


def test_unsupported_cookbook_values_are_refused_by_name() -> None:
    builder = FromConversationFileBuilder(common_config=_common(), file_path="a.jsonl")
    base = dict(log_path="/tmp/x", model_name=MODEL, recipe_name="sl", dataset_builder=builder)
    sl_train.Config(**base, enable_trace=False)  # the default is accepted
    with pytest.raises(ValidationError, match=r"Config\.enable_trace"):
        sl_train.Config(**base, enable_trace=True)
    with pytest.raises(ValidationError, match=r"Config\.rolling_save_every"):
        train_dpo.Config(**base, rolling_save_every=5)
    with pytest.raises(ValidationError, match="async_config"):
        rl_train.AsyncConfig(max_steps_off_policy=-1, groups_per_batch=2)


def test_prompt_only_builder_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base: dict[str, Any] = dict(
        groups_per_batch=2, group_size=3, model_name_for_tokenizer=MODEL, renderer_name="role_colon"
    )
    p = tmp_path / "prompts.jsonl"
    rows = [{"prompt": "add 2 and 3"}, {"messages": [{"role": "user", "content": "hello"}]}, {"question": "why?"}]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    train, test = asyncio.run(PromptOnlyDatasetBuilder(dataset_name="mine", file_path=str(p), **base)())
    assert test is None and len(train) == 2
    assert [b.prompt for b in train.get_batch(0)] == ["add 2 and 3", "hello"]  # type: ignore[attr-defined]
    short = PromptOnlyDatasetBuilder(dataset_name="t", prompts=["a b c d e f g h"], max_prompt_tokens=3, **base)
    (only,) = asyncio.run(short())[0].get_batch(0)
    assert len(only.prompt) < len("a b c d e f g h")  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="dataset_name"):
        asyncio.run(PromptOnlyDatasetBuilder(dataset_name="nope", **base)())
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(MissingExtraError, match=r"tinkerlite\[datasets\]"):
        asyncio.run(PromptOnlyDatasetBuilder(dataset_name="deepmath", **base)())


NO_CHZ_PROBE = textwrap.dedent(
    """
    import dataclasses, sys
    sys.modules["chz"] = None  # importing chz now raises ImportError
    from tinkerlite.utils import config as cfg
    assert not cfg.USING_CHZ
    from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig, SupervisedDatasetBuilder
    from tinkerlite.supervised.data import FromConversationFileBuilder
    from tinkerlite.supervised import train as sl_train
    from tinkerlite.rl import train as rl_train
    from tinkerlite.preference import train_dpo
    from tinkerlite.distillation import train_on_policy
    from tinkerlite.distillation.datasets import PromptOnlyDatasetBuilder
    from tinkerlite.utils.ml_log import dump_config
    cc = ChatDatasetBuilderCommonConfig(model_name_for_tokenizer="m", renderer_name="role_colon",
                                        max_length=8, batch_size=2)
    b = FromConversationFileBuilder(common_config=cc, file_path="a.jsonl")
    c = sl_train.Config(log_path="~/r", model_name="m", recipe_name="sl", dataset_builder=b)
    assert dataclasses.is_dataclass(c) and c.log_path.startswith("/")
    try:
        c.max_steps = 3
        raise SystemExit("not frozen")
    except dataclasses.FrozenInstanceError:
        pass
    assert cfg.replace(c, max_steps=3).max_steps == 3
    try:
        ChatDatasetBuilderCommonConfig("m", "r", 8, 2)
        raise SystemExit("positional accepted")
    except TypeError:
        pass
    try:
        sl_train.Config(log_path="r", model_name="m", recipe_name="sl", dataset_builder=b, enable_trace=True)
        raise SystemExit("unsupported value accepted")
    except ValueError as e:
        assert "enable_trace" in str(e)
    class Mine(SupervisedDatasetBuilder):  # an undecorated subclass works on the stdlib path
        def __call__(self):
            return None, None
    assert Mine()() == (None, None)
    assert PromptOnlyDatasetBuilder(dataset_name="deepmath", groups_per_batch=1, group_size=1,
                                    model_name_for_tokenizer="m", renderer_name="r").max_prompt_tokens == 1024
    assert rl_train.AsyncConfig(max_steps_off_policy=0, groups_per_batch=1).loss_fn == "stable_reinforce"
    assert dump_config(c)["dataset_builder"]["file_path"] == "a.jsonl"
    assert "chz" not in [m for m in sys.modules if sys.modules[m] is not None]
    print("OK")
    """
)


def test_stdlib_path_without_chz() -> None:
    out = subprocess.run([sys.executable, "-c", NO_CHZ_PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "OK", out.stdout + out.stderr


def test_backend_env_switch() -> None:
    code = "import tinkerlite.utils.config as c; print(c.USING_CHZ)"
    env_out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, cfg.BACKEND_ENV: "stdlib"},
    )
    assert env_out.stdout.strip() == "False", env_out.stderr
    bad = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, cfg.BACKEND_ENV: "yes"},
    )
    assert bad.returncode != 0 and "auto, chz, stdlib" in bad.stderr
