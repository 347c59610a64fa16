"""Shared pieces of the benchmark envs (the cookbook's ``eval.benchmarks._common``): messages, example ids,
dataset loading and the answer extractors/graders (gsm8k numbers, ``\\boxed{}``, multiple-choice letters,
code blocks, ifeval kwargs), written to give the cookbook's results on the same text.

Data: ``load_benchmark_dataset`` uses HF ``datasets`` when it is installed. Without it (or when
``TINKERLITE_BENCHMARK_DATA`` names a directory holding the file), rows come from a local JSON Lines file
``<dir>/<path with "/" as "__">[__<name>]__<split>.jsonl`` (e.g. ``openai__gsm8k__main__test.jsonl``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..._optional import require
from ...renderers.base import Message
from ...renderers.content import get_text_content

__all__ = [
    "LocalDataset",
    "SandboxMixin",
    "build_messages",
    "check_gsm8k",
    "decode_response",
    "extract_boxed",
    "extract_command",
    "extract_gsm8k_answer",
    "extract_mcq_answer",
    "extract_number",
    "extract_python_code",
    "format_mcq_choices",
    "get_sandbox_factory",
    "is_task_complete",
    "limit_dataset",
    "load_benchmark_dataset",
    "local_dataset_path",
    "make_example_id",
    "parse_kwargs",
]

logger = logging.getLogger(__name__)
DATA_DIR_ENV = "TINKERLITE_BENCHMARK_DATA"


def build_messages(user_content: str, system_prompt: str | None = None) -> list[Message]:
    """``[system?, user]`` messages for one example."""
    messages: list[Message] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": user_content})
    return messages


def decode_response(action: list[int], renderer: Any) -> str:
    """The non-thinking text of a sampled action (``parse_response`` then ``get_text_content``)."""
    message, _ = renderer.parse_response(action)
    return get_text_content(message)


def make_example_id(prefix: str, seed_text: str) -> str:
    """A stable id: ``<prefix>_<first 12 hex of md5(seed_text)>``."""
    return f"{prefix}_{hashlib.md5(seed_text.encode()).hexdigest()[:12]}"


def format_mcq_choices(choices: list[str]) -> str:
    """``(A) first\\n(B) second...``."""
    return "\n".join(f"({chr(65 + i)}) {c}" for i, c in enumerate(choices))


class LocalDataset:
    """Rows from a local file, with the few ``datasets.Dataset`` methods the benchmarks use."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self._rows = list(rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self._rows[i]

    def select(self, indices: Iterable[int]) -> LocalDataset:
        return LocalDataset(self._rows[i] for i in indices)

    def shuffle(self, seed: int | None = None) -> LocalDataset:
        rows = list(self._rows)
        random.Random(seed).shuffle(rows)
        return LocalDataset(rows)

    def filter(self, fn: Any) -> LocalDataset:
        return LocalDataset(r for r in self._rows if fn(r))


def limit_dataset(ds: Any, max_examples: int | None, shuffle_seed: int | None = None) -> Any:
    """Optionally shuffle (``shuffle_seed``), then keep the first ``max_examples``."""
    if max_examples is None:
        return ds
    if shuffle_seed is not None:
        ds = ds.shuffle(seed=shuffle_seed)
    return ds.select(range(min(max_examples, len(ds))))


def local_dataset_path(path: str, name: str | None = None, split: str = "test") -> Path | None:
    """Where a local copy of ``path``/``name``/``split`` would be (None without ``TINKERLITE_BENCHMARK_DATA``)."""
    root = os.environ.get(DATA_DIR_ENV)
    if not root:
        return None
    parts = [path.replace("/", "__"), *([name] if name else []), split]
    return Path(root) / ("__".join(parts) + ".jsonl")


def _resolve_trust_remote_code(trust_remote_code: bool | None) -> bool:
    if trust_remote_code is not None:
        return trust_remote_code
    return os.environ.get("HF_TRUST_REMOTE_CODE", "").lower() in ("1", "true", "yes")


def load_benchmark_dataset(
    path: str, name: str | None = None, split: str = "test", trust_remote_code: bool | None = None
) -> Any:
    """The benchmark's rows: a local JSONL copy when present, else HF ``datasets.load_dataset``.

    Gated datasets raise ``PermissionError`` with the login steps; datasets needing remote code raise
    ``RuntimeError`` naming ``HF_TRUST_REMOTE_CODE`` (the cookbook's messages).
    """
    local = local_dataset_path(path, name, split)
    if local is not None and local.is_file():
        with local.open(encoding="utf-8") as f:
            return LocalDataset(json.loads(line) for line in f if line.strip())
    where = f"a local copy at {local}" if local is not None else f"{DATA_DIR_ENV}=<directory of JSONL copies>"
    load_dataset = require("datasets", f"benchmark dataset {path!r} (or {where})", "datasets").load_dataset
    kwargs: dict[str, Any] = {"split": split}
    if name is not None:
        kwargs["name"] = name
    if _resolve_trust_remote_code(trust_remote_code):
        kwargs["trust_remote_code"] = True
    try:
        return load_dataset(path, **kwargs)
    except Exception as e:
        err = str(e).lower()
        if "gated" in err or "401" in err or "unauthorized" in err or "access" in err:
            raise PermissionError(
                f"Dataset '{path}' is gated and requires authentication.\n"
                f"1. Create a HuggingFace token at https://huggingface.co/settings/tokens\n"
                f"2. Accept the dataset terms at https://huggingface.co/datasets/{path}\n"
                f"3. Set the token: export HF_TOKEN=hf_...\n"
                f"   Or run: huggingface-cli login\n"
                f"Original error: {e}"
            ) from e
        if "trust_remote_code" in err or "custom code" in err:
            raise RuntimeError(
                f"Dataset '{path}' requires trust_remote_code=True.\n"
                f"Set the environment variable: export HF_TRUST_REMOTE_CODE=1\n"
                f"Original error: {e}"
            ) from e
        raise


def extract_command(text: str) -> str | None:
    """A bash command: a ```bash/sh/shell block, else a plain ``` block not looking like code/JSON/XML."""
    match = re.search(r"```(?:bash|sh|shell)\s*\n(.*?)\n```", text, re.DOTALL)
    if match:
        return match.group(1).strip()
    match = re.search(r"```\s*\n(.*?)\n```", text, re.DOTALL)
    if match:
        cmd = match.group(1).strip()
        if cmd and not cmd.startswith(("{", "[", "<", "def ", "class ", "import ")):
            return cmd
    return None


def is_task_complete(text: str) -> bool:
    """Whether an agent response says ``task_complete`` / ``task complete`` (any case)."""
    lower = text.lower()
    return "task_complete" in lower or "task complete" in lower


def get_sandbox_factory(config: Any, *, packages: list[str] | None = None) -> Any:
    """``config.sandbox_factory`` (an async callable making a sandbox with ``write_file``, ``run_command``
    -> ``.exit_code`` and ``cleanup``). tinkerlite ships no Modal backend, so without one the factory
    returned raises, when first called, an error saying to provide it (``packages`` applied only to Modal)."""
    if config.sandbox_factory is not None:
        return config.sandbox_factory

    async def _missing_factory() -> Any:
        raise RuntimeError(
            "Code execution benchmarks require a sandbox backend: provide a sandbox_factory in BenchmarkConfig "
            "(an async callable returning an object with write_file, run_command and cleanup); tinkerlite does "
            "not bundle the cookbook's Modal sandbox"
        )

    return _missing_factory


class SandboxMixin:
    """Sandbox lifecycle for benchmark envs: ``cleanup`` (found by the runner) is safe to call twice."""

    sandbox: Any | None = None
    _cleaned_up: bool = False

    async def cleanup(self) -> None:
        if self._cleaned_up or self.sandbox is None:
            return
        self._cleaned_up = True
        try:
            await self.sandbox.cleanup()
        except Exception:
            logger.debug("Sandbox cleanup failed", exc_info=True)


def extract_boxed(text: str) -> str | None:
    r"""The content of the first ``\boxed{...}`` (nested braces balanced), or None."""
    idx = text.find("\\boxed{")
    if idx == -1:
        return None
    start = i = idx + len("\\boxed{")
    depth = 1
    while i < len(text) and depth > 0:
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
        i += 1
    return text[start : i - 1] if depth == 0 else None


def extract_number(text: str) -> str:
    """The first number after stripping LaTeX (``\\text{}``, commands, braces, ``$``, commas, spaces)."""
    cleaned = re.sub(r"\\text\{[^}]*\}", "", text)
    cleaned = re.sub(r"\\[a-zA-Z]+", "", cleaned)
    cleaned = cleaned.replace("{", "").replace("}", "").replace("$", "").replace(",", "").replace(" ", "")
    match = re.search(r"[-]?\d+\.?\d*", cleaned)
    return match.group(0) if match else cleaned.strip()


def extract_gsm8k_answer(text: str) -> str:
    """Numeric answer: ``\\boxed{}``, then ``#### x``, ``answer is/answer: x``, ``**x**``, the last number."""
    boxed = extract_boxed(text)
    if boxed:
        return extract_number(boxed)
    hash_match = re.search(r"####\s*(.+)", text)
    if hash_match:
        return extract_number(hash_match.group(1))
    answer_match = re.search(r"(?:answer is|answer:)\s*\$?([0-9,.-]+)", text, re.IGNORECASE)
    if answer_match:
        return answer_match.group(1).strip().replace(",", "").rstrip(".")
    bold = re.findall(r"\*\*\$?([-]?\d+[,\d]*\.?\d*)", text)
    if bold:
        return str(bold[-1]).replace(",", "").rstrip(".")
    numbers = re.findall(r"[-]?\d+[,\d]*\.?\d*", text)
    if numbers:
        return str(numbers[-1]).replace(",", "")
    logger.debug("extract_gsm8k_answer: no number found in response (len=%d)", len(text))
    return ""


def check_gsm8k(response: str, expected: str) -> bool:
    """Extracted answer == expected (within 1e-5 as numbers; exact text otherwise)."""
    extracted = extract_gsm8k_answer(response)
    expected_clean = expected.replace(",", "")
    try:
        return abs(float(extracted) - float(expected_clean)) < 1e-5
    except (ValueError, TypeError):
        return extracted.strip() == expected_clean.strip()


def extract_mcq_answer(text: str, valid_letters: str = "ABCD") -> str:
    """A choice letter: ``\\boxed{X}``, then ``answer is (X)``, then the last standalone letter in the
    final 300 characters; ``""`` if none."""
    pattern = f"[{valid_letters}]"
    boxed = extract_boxed(text)
    if boxed is not None:
        upper = boxed.strip().upper()
        if re.fullmatch(pattern, upper):
            return upper
    answer_match = re.search(rf"(?:answer is|answer:)\s*\(?([{valid_letters}])\)?", text, re.IGNORECASE)
    if answer_match:
        return answer_match.group(1).upper()
    letters = re.findall(rf"\b({pattern})\b", text[-300:])
    return str(letters[-1]) if letters else ""


def extract_python_code(text: str) -> str:
    """A ```python block, else the last fenced block, else the whole text (stripped)."""
    match = re.search(r"```python\s*\n(.*?)\n```", text, re.DOTALL)
    if match:
        return match.group(1).strip()
    matches = re.findall(r"```(?:\w*)\s*\n(.*?)\n```", text, re.DOTALL)
    if matches:
        return str(matches[-1]).strip()
    return text.strip()


def parse_kwargs(raw_kwargs: list[Any], instruction_ids: list[Any] | None = None) -> list[dict[str, Any]]:
    """Raw kwargs entries (None / JSON string / dict) as dicts, ``{}`` for the unparseable; padded to
    ``instruction_ids``' length when given."""
    out: list[dict[str, Any]] = []
    for kw in raw_kwargs:
        if isinstance(kw, str):
            try:
                parsed = json.loads(kw)
            except json.JSONDecodeError:
                parsed = {}
            out.append(parsed if isinstance(parsed, dict) else {})
        elif isinstance(kw, dict):
            out.append(kw)
        else:
            out.append({})
    if instruction_ids is not None:
        out.extend({} for _ in range(len(instruction_ids) - len(out)))
    return out
