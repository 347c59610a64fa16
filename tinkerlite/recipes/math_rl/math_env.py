"""Math problem environments: Hendrycks MATH, Polaris, DeepMath and GSM8K, graded on the ``\\boxed{}`` answer.

Each builder loads its hub dataset with ``datasets`` when installed; ``file_path=`` (JSONL in that
dataset's row shape: ``problem``/``solution`` for MATH, ``problem``/``answer`` for Polaris,
``question``/``final_answer`` for DeepMath, ``question``/``answer`` ending in ``#### N`` for GSM8K)
replaces it, and without either the bundled ``tiny_math.jsonl`` / ``tiny_gsm8k.jsonl`` are used.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Literal

from ... import renderers
from ...errors import ValidationError
from ...rl.problem_env import ProblemEnv, ProblemGroupBuilder
from ...rl.types import EnvGroupBuilder, RLDataset, RLDatasetBuilder
from ...tokenizer_utils import get_tokenizer
from ...utils.config import configclass
from .._data import load_rows
from .math_grading import extract_boxed, grade_answer, grade_answer_math_verify

__all__ = [
    "DATASET_BUILDER_MAP",
    "DeepMathDatasetBuilder",
    "Gsm8kDataset",
    "Gsm8kDatasetBuilder",
    "MathDataset",
    "MathDatasetBuilder",
    "MathEnv",
    "PolarisDatasetBuilder",
    "extract_gsm8k_final_answer",
    "get_math_dataset_builder",
    "safe_grade",
]

logger = logging.getLogger(__name__)


class MathEnv(ProblemEnv):
    """One problem; reward 1 for a correct ``\\boxed{}`` answer, a format penalty without one."""

    def __init__(
        self,
        problem: str,
        answer: str,
        renderer: renderers.Renderer,
        convo_prefix: list[renderers.Message] | None = None,
        grader: Literal["sympy", "math_verify"] = "sympy",
        timeout: float = 1.0,
        format_coef: float = 0.1,
        require_stop_sequence_for_format: bool = True,
    ) -> None:
        super().__init__(
            renderer,
            convo_prefix,
            format_coef=format_coef,
            require_stop_sequence_for_format=require_stop_sequence_for_format,
        )
        self.problem, self.answer, self.grader, self.timeout = problem, answer, grader, timeout

    @classmethod
    def question_suffix(cls) -> str:
        return " Write your answer in \\boxed{} format."

    def get_question(self) -> str:
        return self.problem + self.question_suffix()

    def check_format(self, sample_str: str) -> bool:
        try:
            extract_boxed(sample_str)
        except ValueError:
            return False
        return True

    def check_answer(self, sample_str: str) -> bool:
        try:
            given = extract_boxed(sample_str)
        except ValueError:
            return False
        return safe_grade(given, self.answer, self.grader, self.timeout)

    def get_reference_answer(self) -> str:
        return self.answer

    @staticmethod
    def standard_fewshot_prefix() -> list[renderers.Message]:
        from ...rl.envs.gsm8k import standard_fewshot_prefix

        return standard_fewshot_prefix()  # type: ignore[return-value]


def safe_grade(given_answer: str, ground_truth: str, grader: str = "sympy", timeout: float = 1.0) -> bool:
    """Grade with ``grader``; a grader that raises counts as wrong (sympy's own parse time is bounded)."""
    fn: Callable[[str, str], bool]
    if grader == "sympy":
        fn = grade_answer
    elif grader == "math_verify":
        fn = grade_answer_math_verify
    else:
        raise ValidationError(f"grader: must be sympy or math_verify; got {grader!r}")
    try:
        return fn(given_answer, ground_truth)
    except Exception as e:  # a malformed expression is a wrong answer, not a crashed rollout
        logger.warning("grading %r against %r failed: %s", given_answer, ground_truth, e)
        return False


def extract_gsm8k_final_answer(text: str) -> str:
    """The answer after the last ``####`` of a GSM8K solution (commas removed); ``ValueError`` if none."""
    for line in reversed(text.splitlines()):
        s = line.strip()
        if s.startswith("####"):
            return s[4:].strip().lstrip(":").strip().replace(",", "").strip()
    found = re.findall(r"####\s*(.+)", text)
    if found:
        return str(found[-1]).strip()
    raise ValueError("No GSM8K final answer found")


def _prefix(convo_prefix: Any) -> list[renderers.Message] | None:
    return MathEnv.standard_fewshot_prefix() if convo_prefix == "standard" else convo_prefix


class MathDataset(RLDataset):
    """Batches of problem rows; ``row_to_problem`` gives (problem, answer) or None to skip the row.

    Constructed as in the cookbook, a dataset loads its own rows from the Hugging Face hub (the
    ``datasets`` extra); the builders hand it rows they already loaded (``file_path=`` files, the
    bundled offline sample) through :meth:`_from_rows`.
    """

    dataset_name = "math"

    def __init__(
        self,
        batch_size: int,
        group_size: int,
        renderer: renderers.Renderer,
        convo_prefix: list[renderers.Message] | None = None,
        split: Literal["train", "test"] = "train",
        seed: int = 0,
    ) -> None:
        self._setup(self._load_rows(split), batch_size, group_size, renderer, convo_prefix, split, seed)

    @classmethod
    def _load_rows(cls, split: str) -> Any:
        if split not in ("train", "test"):
            raise ValidationError(f"split must be 'train' or 'test', got {split!r}", field="split")
        if split == "train":
            from ..._optional import require

            require("datasets", "the MATH training split (or MathDatasetBuilder(file_path=...))", "datasets")
            return _hendrycks_train()
        return load_rows("HuggingFaceH4/MATH-500", "test")

    @classmethod
    def _from_rows(
        cls,
        rows: Any,
        batch_size: int,
        group_size: int,
        renderer: renderers.Renderer,
        convo_prefix: list[renderers.Message] | None = None,
        split: Literal["train", "test"] = "train",
        seed: int = 0,
    ) -> Any:
        ds = cls.__new__(cls)
        ds._setup(rows, batch_size, group_size, renderer, convo_prefix, split, seed)
        return ds

    def _setup(
        self,
        rows: Any,
        batch_size: int,
        group_size: int,
        renderer: renderers.Renderer,
        convo_prefix: list[renderers.Message] | None,
        split: str,
        seed: int,
    ) -> None:
        self.ds = rows.shuffle(seed=seed) if split == "train" else rows
        self.batch_size = batch_size
        self.group_size = group_size if split == "train" else 1
        self.renderer = renderer
        self.convo_prefix = convo_prefix

    def row_to_problem(self, row: dict[str, Any]) -> tuple[str, str] | None:
        try:
            return row["problem"], extract_boxed(row["solution"])
        except (KeyError, ValueError):
            logger.warning("no answer found in row %s", str(row)[:80])
            return None

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        start, end = index * self.batch_size, min((index + 1) * self.batch_size, len(self.ds))
        out: list[EnvGroupBuilder] = []
        for row in self.ds.select(range(start, end)):
            pa = self.row_to_problem(row)
            if pa is not None:
                out.append(
                    ProblemGroupBuilder(
                        env_thunk=partial(MathEnv, pa[0], pa[1], self.renderer, convo_prefix=self.convo_prefix),
                        num_envs=self.group_size,
                        dataset_name=self.dataset_name,
                    )
                )
        return out

    def __len__(self) -> int:
        return math.ceil(len(self.ds) / self.batch_size)


class PolarisDataset(MathDataset):
    dataset_name = "polaris"

    def __init__(
        self,
        batch_size: int,
        group_size: int,
        renderer: renderers.Renderer,
        convo_prefix: list[renderers.Message] | None = None,
        seed: int = 0,
    ) -> None:
        rows = load_rows("POLARIS-Project/Polaris-Dataset-53K", "train", shape='{"problem", "answer"}')
        self._setup(rows, batch_size, group_size, renderer, convo_prefix, "train", seed)

    def row_to_problem(self, row: dict[str, Any]) -> tuple[str, str] | None:
        problem, answer = row.get("problem", ""), row.get("answer", "")
        return (str(problem), str(answer)) if problem and answer else None


class DeepMathDataset(MathDataset):
    dataset_name = "deepmath"

    def __init__(
        self,
        batch_size: int,
        group_size: int,
        renderer: renderers.Renderer,
        convo_prefix: list[renderers.Message] | None = None,
        seed: int = 0,
    ) -> None:
        rows = load_rows("zwhe99/DeepMath-103K", "train", shape='{"question", "final_answer"}')
        self._setup(rows, batch_size, group_size, renderer, convo_prefix, "train", seed)

    def row_to_problem(self, row: dict[str, Any]) -> tuple[str, str] | None:
        problem, answer = row.get("question", ""), row.get("final_answer", "")
        return (str(problem), str(answer)) if problem and answer else None


class Gsm8kDataset(MathDataset):
    dataset_name = "gsm8k"

    @classmethod
    def _load_rows(cls, split: str) -> Any:
        if split not in ("train", "test"):
            raise ValidationError(f"split must be 'train' or 'test', got {split!r}", field="split")
        return load_rows("openai/gsm8k", split, config_name="main", shape='{"question", "answer": "... #### N"}')

    @classmethod
    def question_suffix(cls) -> str:
        return " Provide a numerical answer without units, written inside \\boxed{}."

    def row_to_problem(self, row: dict[str, Any]) -> tuple[str, str] | None:
        try:
            return row["question"], extract_gsm8k_final_answer(row["answer"])
        except (KeyError, ValueError) as e:
            logger.warning("Failed to parse GSM8K row: %s", e)
            return None


def _hendrycks_train() -> Any:
    """MATH train: every subject's train and test split minus the MATH-500 problems (the cookbook's split)."""
    from ..._optional import try_import

    datasets: Any = try_import("datasets")  # only called once the caller found it installed
    held_out = {row["problem"] for row in datasets.load_dataset("HuggingFaceH4/MATH-500", split="test")}
    pieces = [
        datasets.load_dataset("EleutherAI/hendrycks_math", name=cfg, split=split).filter(
            lambda ex: ex["problem"] not in held_out
        )
        for cfg in datasets.get_dataset_config_names("EleutherAI/hendrycks_math")
        for split in ("train", "test")
    ]
    return datasets.concatenate_datasets(pieces)


@configclass
class _MathBuilderBase(RLDatasetBuilder):
    """Polaris/DeepMath builders' fields (no few-shot prefix, as in the cookbook); ``file_path`` is ours."""

    batch_size: int
    model_name_for_tokenizer: str
    renderer_name: str
    group_size: int
    seed: int = 0
    file_path: str | None = None

    def _renderer(self) -> renderers.Renderer:
        return renderers.get_renderer(self.renderer_name, tokenizer=get_tokenizer(self.model_name_for_tokenizer))


@configclass
class _PrefixedMathBuilderBase(RLDatasetBuilder):
    """MATH/GSM8K builders' fields: the cookbook's ``convo_prefix`` (default the standard few-shot) too."""

    batch_size: int
    model_name_for_tokenizer: str
    renderer_name: str
    group_size: int
    convo_prefix: list[renderers.Message] | Literal["standard"] | None = "standard"
    seed: int = 0
    file_path: str | None = None

    def _renderer(self) -> renderers.Renderer:
        return renderers.get_renderer(self.renderer_name, tokenizer=get_tokenizer(self.model_name_for_tokenizer))


@configclass
class MathDatasetBuilder(_PrefixedMathBuilderBase):
    async def __call__(self) -> tuple[MathDataset, MathDataset | None]:
        from ..._optional import try_import

        if self.file_path or try_import("datasets") is None:
            train = load_rows("EleutherAI/hendrycks_math", "train", file_path=self.file_path,
                              bundled="tiny_math.jsonl", shape='{"problem", "solution"}')
            test = load_rows("HuggingFaceH4/MATH-500", "test", file_path=self.file_path, bundled="tiny_math.jsonl")
        else:
            train, test = _hendrycks_train(), load_rows("HuggingFaceH4/MATH-500", "test")
        r, p = self._renderer(), _prefix(self.convo_prefix)
        n, g = self.batch_size, self.group_size
        test_ds = MathDataset._from_rows(test, n, g, r, p, "test", self.seed) if test else None
        return MathDataset._from_rows(train, n, g, r, p, "train", self.seed), test_ds


@configclass
class PolarisDatasetBuilder(_MathBuilderBase):
    async def __call__(self) -> tuple[PolarisDataset, None]:
        rows = load_rows("POLARIS-Project/Polaris-Dataset-53K", "train", file_path=self.file_path,
                         shape='{"problem", "answer"}')
        n, g = self.batch_size, self.group_size
        ds = PolarisDataset._from_rows(rows, n, g, self._renderer(), None, "train", self.seed)
        return ds, None


@configclass
class DeepMathDatasetBuilder(_MathBuilderBase):
    async def __call__(self) -> tuple[DeepMathDataset, None]:
        rows = load_rows("zwhe99/DeepMath-103K", "train", file_path=self.file_path,
                         shape='{"question", "final_answer"}')
        n, g = self.batch_size, self.group_size
        ds = DeepMathDataset._from_rows(rows, n, g, self._renderer(), None, "train", self.seed)
        return ds, None


@configclass
class Gsm8kDatasetBuilder(_PrefixedMathBuilderBase):
    async def __call__(self) -> tuple[Gsm8kDataset, Gsm8kDataset | None]:
        kw: dict[str, Any] = {"config_name": "main", "file_path": self.file_path, "bundled": "tiny_gsm8k.jsonl",
                              "shape": '{"question", "answer": "... #### N"}'}
        train, test = load_rows("openai/gsm8k", "train", **kw), load_rows("openai/gsm8k", "test", **kw)
        r, p = self._renderer(), _prefix(self.convo_prefix)
        n, g = self.batch_size, self.group_size
        test_ds = Gsm8kDataset._from_rows(test, n, g, r, p, "test", self.seed) if test else None
        return Gsm8kDataset._from_rows(train, n, g, r, p, "train", self.seed), test_ds


DATASET_BUILDER_MAP: dict[str, type[_MathBuilderBase] | type[_PrefixedMathBuilderBase]] = {
    "math": MathDatasetBuilder,
    "polaris": PolarisDatasetBuilder,
    "deepmath": DeepMathDatasetBuilder,
    "gsm8k": Gsm8kDatasetBuilder,
}


def get_math_dataset_builder(
    dataset_name: str,
    batch_size: int,
    model_name_for_tokenizer: str,
    renderer_name: str,
    group_size: int,
    seed: int = 0,
    file_path: str | None = None,
) -> RLDatasetBuilder:
    """The builder for ``dataset_name`` (math, polaris, deepmath or gsm8k)."""
    if dataset_name not in DATASET_BUILDER_MAP:
        known = ", ".join(DATASET_BUILDER_MAP)
        raise ValidationError(f"unknown math dataset {dataset_name!r}; expected one of {known}", field="dataset_name")
    return DATASET_BUILDER_MAP[dataset_name](
        batch_size=batch_size,
        model_name_for_tokenizer=model_name_for_tokenizer,
        renderer_name=renderer_name,
        group_size=group_size,
        seed=seed,
        file_path=file_path,
    )
