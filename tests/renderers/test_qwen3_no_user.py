"""Qwen's thinking-disabled renderers on conversations with no user message, against cookbook 0.6.1 goldens.

The cookbook raises there (its template writes no empty think block without a user message, but the
generation prompt always opens one), in every TrainOnWhat mode; tinkerlite must raise in the same places and
render the same tokens everywhere else. Goldens: ``tests/golden/make_qwen3_no_user_goldens.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.renderers import TrainOnWhat, make_renderer, message_to_jsonable

from .test_goldens import _check, _unrle
from .tokenizers_for_tests import load

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "qwen3_no_user_goldens.json").read_text(encoding="utf-8"))
CONVS = {c["id"]: c for c in GOLDEN["conversations"]}
CASES = [(doc["renderer"], rec) for doc in GOLDEN["renderers"] for rec in doc["records"]]


@pytest.mark.parametrize(("name", "rec"), CASES, ids=[f"{n}-{r['id']}" for n, r in CASES])
def test_matches_cookbook(name: str, rec: dict[str, Any]) -> None:
    renderer = make_renderer(name, load(GOLDEN["tokenizer_family"]))
    messages = [dict(m) for m in CONVS[rec["id"]]["messages"]]
    history = messages[:-1] if messages[-1]["role"] == "assistant" else messages
    failures: list[str] = []

    def example(pair: Any) -> dict[str, Any]:
        mi, w = pair
        return {"tokens": mi.to_ints(), "weights": w.tolist()}

    def expect(e: dict[str, Any]) -> dict[str, Any]:
        return e if "error" in e else {"tokens": e["tokens"], "weights": _unrle(e["weights"])}

    _check(
        failures,
        name,
        rec["id"],
        "generation",
        rec["generation"],
        lambda: {"tokens": renderer.build_generation_prompt(history).to_ints()},
    )
    for mode, expected in rec["supervised"].items():
        _check(
            failures,
            name,
            rec["id"],
            f"supervised.{mode}",
            expect(expected),
            lambda mode=mode: example(renderer.build_supervised_example(messages, TrainOnWhat(mode))),
        )
    for mode, expected in rec["examples"].items():
        exp = expected if isinstance(expected, dict) else {"list": [expect(e) for e in expected]}
        _check(
            failures,
            name,
            rec["id"],
            f"examples.{mode}",
            exp,
            lambda mode=mode: {
                "list": [example(p) for p in renderer.build_supervised_examples(messages, TrainOnWhat(mode))]
            },
        )
    if "parse" in rec:
        msg, term = renderer.parse_response(rec["parse"]["response"])
        got = {"message": message_to_jsonable(msg), "termination": str(term)}
        if "error" not in rec["parse"] and got != {
            "message": rec["parse"]["message"],
            "termination": rec["parse"]["termination"],
        }:
            failures.append(f"parse: {got} != {rec['parse']}")
    assert not failures, "\n".join(failures)


def test_qwen3_disable_thinking_raises_like_the_cookbook_without_a_user_message() -> None:
    doc = next(d for d in GOLDEN["renderers"] if d["renderer"] == "qwen3_disable_thinking")
    rec = next(r for r in doc["records"] if r["id"] == "system_assistant")
    assert all("error" in rec["supervised"][m] for m in rec["supervised"])  # the cookbook raises in every mode
