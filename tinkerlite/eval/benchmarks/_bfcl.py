"""BFCL (Berkeley Function Calling Leaderboard, the ``simple`` subset), as the cookbook's experimental ``_bfcl``.

Benchmark ``bfcl``: the model sees the function documentation and a user query and answers with a JSON
call; the first balanced ``{...}`` (else a fenced JSON block) is compared with the expected call by name and
the expected arguments, strings compared stripped and lower-cased, lists as sorted. As in the cookbook the
expected call is read from its ``name``/``function`` and ``arguments``/``parameters`` keys, and the response
is the raw decoded text (tool-call syntax included).

Rows: ``gorilla-llm/Berkeley-Function-Calling-Leaderboard`` files ``BFCL_v3_simple.json`` and
``possible_answer/BFCL_v3_simple.json`` through HF ``datasets``, or local JSONL copies
``gorilla-llm__Berkeley-Function-Calling-Leaderboard__BFCL_v3_simple__train.jsonl`` and
``...__possible_answer_BFCL_v3_simple__train.jsonl`` under ``TINKERLITE_BENCHMARK_DATA``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

import tinkerlite as tinker

from ..._optional import require
from ...errors import MissingExtraError
from ...renderers.base import Message
from ...rl.types import Env, StepResult
from ._common import LocalDataset, _resolve_trust_remote_code, limit_dataset, local_dataset_path, make_example_id
from ._types import BenchmarkBuilder, BenchmarkConfig

logger = logging.getLogger(__name__)

_REPO = "gorilla-llm/Berkeley-Function-Calling-Leaderboard"
_QUESTIONS = "BFCL_v3_simple.json"
_ANSWERS = "possible_answer/BFCL_v3_simple.json"


def _extract_function_call(text: str) -> dict[str, Any] | None:
    """The first balanced ``{...}`` that parses as JSON; else the first JSON object in a fenced block."""
    start = text.find("{")
    if start != -1:
        depth = 0
        for i in range(start, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    try:
                        found: Any = json.loads(text[start : i + 1])
                        return found  # type: ignore[no-any-return]
                    except json.JSONDecodeError:
                        break
    code_match = re.search(r"```(?:json)?\s*\n(.*?)\n```", text, re.DOTALL)
    if code_match:
        try:
            parsed = json.loads(code_match.group(1).strip())
            if isinstance(parsed, dict):
                return parsed
            if isinstance(parsed, list) and parsed and isinstance(parsed[0], dict):
                return parsed[0]
        except json.JSONDecodeError:
            pass
    return None


def _normalize_value(v: object) -> object:
    """Strings stripped and lower-cased, lists sorted, dicts by value (recursively)."""
    if isinstance(v, str):
        return v.strip().lower()
    if isinstance(v, list):
        return sorted(_normalize_value(x) for x in v)  # type: ignore[type-var]
    if isinstance(v, dict):
        return {k: _normalize_value(val) for k, val in v.items()}
    return v


def _match_function_call(generated: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Same name (case-insensitive, when both are strings) and every expected argument present and equal."""
    gen_name = generated.get("name", generated.get("function", ""))
    exp_name = expected.get("name", expected.get("function", ""))
    if isinstance(gen_name, str) and isinstance(exp_name, str) and gen_name.strip().lower() != exp_name.strip().lower():
        return False
    gen_args = generated.get("arguments", generated.get("parameters", {}))
    exp_args = expected.get("arguments", expected.get("parameters", {}))
    if not isinstance(gen_args, dict) or not isinstance(exp_args, dict):
        return False
    for key, exp_val in exp_args.items():
        if key not in gen_args or _normalize_value(gen_args[key]) != _normalize_value(exp_val):
            return False
    return True


class BFCLEnv(Env):
    """Single-turn env for one BFCL problem (graded on the raw decoded response)."""

    def __init__(self, prompt: str, user_query: str, expected: dict[str, Any], renderer: Any, example_id: str = ""):
        self.prompt = prompt
        self.user_query = user_query
        self.expected = expected
        self.renderer = renderer
        self.example_id = example_id

    async def initial_observation(self) -> Any:
        messages: list[Message] = [{"role": "user", "content": self.prompt}]
        return self.renderer.build_generation_prompt(messages), self.renderer.get_stop_sequences()

    async def step(self, action: Any, *, extra: Any = None) -> StepResult:
        response = str(self.renderer.tokenizer.decode(action))
        generated = _extract_function_call(response)
        correct = generated is not None and _match_function_call(generated, self.expected)
        return StepResult(
            reward=1.0 if correct else 0.0,
            episode_done=True,
            next_observation=tinker.ModelInput.empty(),
            next_stop_condition=[],
            metrics={"correct": float(correct)},
            logs={"example_id": self.example_id, "input": self.user_query[:200], "output": response[:500]},
        )


def _load_file(data_files: str) -> Any:
    """One BFCL file: its local JSONL copy, else ``datasets.load_dataset(repo, data_files=...)``."""
    local = local_dataset_path(_REPO, data_files.removesuffix(".json").replace("/", "_"), "train")
    if local is not None and local.is_file():
        with local.open(encoding="utf-8") as f:
            return LocalDataset(json.loads(line) for line in f if line.strip())
    where = f"a local copy at {local}" if local is not None else "TINKERLITE_BENCHMARK_DATA=<directory of JSONL copies>"
    load_dataset = require("datasets", f"benchmark dataset {_REPO!r} (or {where})", "datasets").load_dataset
    kwargs: dict[str, Any] = {"trust_remote_code": True} if _resolve_trust_remote_code(None) else {}
    return load_dataset(_REPO, data_files=data_files, split="train", **kwargs)


def _prompt(functions: Any, question_msgs: Any) -> tuple[str, str]:
    """(prompt, user query) for a row's function docs and question messages."""
    if isinstance(functions, str):
        func_text = functions
    elif isinstance(functions, list):
        func_text = json.dumps(functions, indent=2)
    else:
        func_text = str(functions)
    if isinstance(question_msgs, list) and question_msgs:
        last = question_msgs[-1]
        user_query = last.get("content", "") if isinstance(question_msgs[0], dict) else str(last)
    else:
        user_query = str(question_msgs)
    prompt = (
        f"You have access to the following functions:\n\n{func_text}\n\n"
        f"User query: {user_query}\n\n"
        "Call the appropriate function with the correct arguments. "
        "Respond with a JSON object containing 'name' and 'arguments' keys."
    )
    return prompt, user_query


def _expected_call(ground_truth: Any) -> dict[str, Any] | None:
    """The expected call: JSON text or an object; of a list, the first."""
    if isinstance(ground_truth, str):
        try:
            parsed = json.loads(ground_truth)
        except json.JSONDecodeError:
            return None
    elif isinstance(ground_truth, (dict, list)):
        parsed = ground_truth
    else:
        return None
    if isinstance(parsed, list):
        parsed = parsed[0] if parsed else None
    return parsed if isinstance(parsed, dict) else None


class BFCLBenchmarkBuilder(BenchmarkBuilder):
    """BFCL: Berkeley Function Calling Leaderboard (simple subset, argument match; experimental)."""

    name = "bfcl"
    experimental = True

    def make_envs(self, renderer: Any, config: BenchmarkConfig) -> Sequence[Env]:
        try:
            ds = _load_file(_QUESTIONS)
            gt_by_id = {row["id"]: row["ground_truth"] for row in _load_file(_ANSWERS)}
        except MissingExtraError:
            raise
        except Exception as exc:
            logger.warning(f"Could not load BFCL dataset: {exc}.")
            return []
        envs: list[Env] = []
        for row in limit_dataset(ds, config.max_examples):
            row = dict(row)
            question_msgs = row.get("question", [])
            ground_truth = row.get("ground_truth", gt_by_id.get(row.get("id", "")))
            if not question_msgs or ground_truth is None:
                continue
            expected = _expected_call(ground_truth)
            if expected is None:
                continue
            prompt, user_query = _prompt(row.get("function", []), question_msgs)
            envs.append(BFCLEnv(prompt, user_query, expected, renderer, example_id=make_example_id("bfcl", user_query)))
        return envs


from . import register  # noqa: E402

register(BFCLBenchmarkBuilder())
