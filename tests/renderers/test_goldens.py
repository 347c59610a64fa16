"""tinkerlite's renderers against goldens produced by the official tinker-cookbook 0.6.1 renderers.

The goldens (``goldens/{renderer}@{family}.json``) come from ``tests/golden/make_renderer_goldens.py``
run in a throwaway venv with the same pinned tokenizer files. In the default mode every generation
prompt, supervised example (all seven TrainOnWhat modes), split example list, tool prefix and parse must
match token for token, and wherever the cookbook raised tinkerlite must raise too. In strict mode
(``make_renderer(..., strict=True)``) the same holds except for STRICT_DIVERGENCES, where tinkerlite
raises (or emits less) instead of dropping data as the cookbook does, and the test checks exactly that.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.renderers import Renderer, RendererError, TrainOnWhat, make_renderer, message_to_jsonable

from .tokenizers_for_tests import load

GOLDEN_DIR = Path(__file__).parent / "goldens"
GOLDEN_FILES = sorted(GOLDEN_DIR.glob("*.json"))

# Strict-mode divergences: (renderer names, conversation ids, record-key prefixes, kind, why).
# Record keys: "generation", "generation_prefill", "supervised.<mode>", "examples.<mode>", "parse".
RAISES = "raises"  # strict tinkerlite raises RendererError where the cookbook renders
DROPS_SUFFIX = "drops_suffix"  # strict tinkerlite's tokens/weights are the cookbook's minus a junk tail
_THINKING_CONVS = frozenset(
    {"thinking_last", "thinking_multi_turn", "thinking_inline_string", "tools_then_new_user_turn"}
)
_EXAMPLES = ("supervised.", "examples.")
_RENDERS = ("generation", "supervised.", "examples.")
_ALL = frozenset(json.loads(f.read_text(encoding="utf-8"))["renderer"] for f in GOLDEN_FILES)
_NO_TOOL_FORMAT_CONVS = frozenset(
    {
        "tool_calls_without_declarations",
        "malformed_tool_arguments",
        "non_object_tool_arguments",
        "tool_result_without_name",
    }
)
STRICT_DIVERGENCES: list[tuple[frozenset[str], frozenset[str], tuple[str, ...], str, str]] = [
    (_ALL, frozenset({"unknown_role"}), _RENDERS, RAISES, "a role the format was not made for is refused"),
    (
        _ALL,
        frozenset({"malformed_tool_arguments", "non_object_tool_arguments"}),
        _RENDERS,
        RAISES,
        "tool-call arguments that are not a JSON object are refused up front, by every renderer",
    ),
    (
        frozenset({"role_colon", "llama3"}),
        _NO_TOOL_FORMAT_CONVS,
        _RENDERS,
        RAISES,
        "tool calls given to a format without tool-call syntax are refused instead of dropped",
    ),
    (
        frozenset({"role_colon"}),
        frozenset({"ends_with_user"}),
        _EXAMPLES,
        DROPS_SUFFIX,
        "the cookbook appends the placeholder text '<UNUSED>' after a last non-assistant message",
    ),
    (
        frozenset({n for n in _ALL if "disable_thinking" in n}),
        _THINKING_CONVS,
        _EXAMPLES,
        RAISES,
        "a produced turn that reasons is refused in every mode, not only the last-turn modes",
    ),
    (
        frozenset({"deepseekv3", "deepseekv3_disable_thinking"}),
        _THINKING_CONVS,
        _EXAMPLES,
        RAISES,
        "reasoning on the last assistant message is refused instead of silently dropped",
    ),
    (
        frozenset({n for n in _ALL if n.startswith("gpt_oss")}),
        frozenset({"tool_result_without_name"}),
        _RENDERS,
        RAISES,
        "a tool result without 'name' is refused instead of written as 'functions.unknown'",
    ),
]


def _divergence(renderer: str, conv: str, key: str, strict: bool) -> tuple[str, str] | None:
    if not strict:
        return None
    for renderers, convs, key_prefixes, kind, why in STRICT_DIVERGENCES:
        if renderer in renderers and conv in convs and key.startswith(key_prefixes):
            return kind, why
    return None


def _drops_suffix(got: Any, expected: Any) -> bool:
    """Same example(s), except that the cookbook's has extra trailing tokens (with any weights)."""
    if "list" in expected:
        return len(got["list"]) == len(expected["list"]) and all(
            _drops_suffix(g, e) for g, e in zip(got["list"], expected["list"], strict=True)
        )
    if "tokens" not in got or "weights" not in got:
        return bool(got == expected)
    n = len(got["tokens"])
    return (
        n < len(expected["tokens"])
        and got["tokens"] == expected["tokens"][:n]
        and got["weights"] == expected["weights"][:n]
    )


DIVERGENCE_CHECKS: dict[str, Any] = {DROPS_SUFFIX: _drops_suffix}


def _unrle(runs: list[list[float]]) -> list[float]:
    return [float(v) for v, n in runs for _ in range(int(n))]


def _cases() -> list[Any]:
    cases = []
    for path in GOLDEN_FILES:
        doc = json.loads(path.read_text(encoding="utf-8"))
        convs = {c["id"]: c for c in doc["conversations"]}
        for rec in doc["records"]:
            for strict in (False, True):
                mode = "strict" if strict else "default"
                cases.append(pytest.param(doc, convs[rec["id"]], rec, strict, id=f"{path.stem}-{rec['id']}-{mode}"))
    return cases


def _renderer(doc: dict[str, Any], strict: bool) -> Renderer:
    return make_renderer(
        doc["renderer"], load(doc["tokenizer_family"]), current_date=doc["gpt_oss_current_date"], strict=strict
    )


def _check(
    failures: list[str],
    renderer_name: str,
    conv_id: str,
    key: str,
    expected: dict[str, Any],
    produce: Any,
    strict: bool = False,
) -> None:
    """Compare one record; mismatches are collected so a case reports all of them at once."""
    where = f"{renderer_name}/{conv_id}/{key}"
    why = _divergence(renderer_name, conv_id, key, strict)
    try:
        got = produce()
    except (RendererError, NotImplementedError, ValueError) as e:
        if "error" in expected:
            return
        if why is not None and why[0] == RAISES and isinstance(e, RendererError):
            return
        failures.append(f"{where}: raised {type(e).__name__}: {e} (cookbook rendered it)")
        return
    if "error" in expected:
        failures.append(f"{where}: rendered, but the cookbook raised {expected['error']}: {expected['message']}")
    elif why is not None:
        kind, reason = why
        if kind == RAISES:
            failures.append(f"{where}: expected RendererError ({reason})")
        elif not DIVERGENCE_CHECKS[kind](got, expected):
            failures.append(f"{where}: divergence '{reason}' not as documented")
    elif got != expected:
        failures.append(f"{where}: differs from the cookbook\n  got      {got}\n  expected {expected}")


@pytest.mark.skipif(not GOLDEN_FILES, reason="no golden files")
@pytest.mark.parametrize(("doc", "conv", "rec", "strict"), _cases())
def test_matches_cookbook(doc: dict[str, Any], conv: dict[str, Any], rec: dict[str, Any], strict: bool) -> None:
    renderer = _renderer(doc, strict)
    failures: list[str] = []
    name, cid = doc["renderer"], conv["id"]

    def check(key: str, expected: dict[str, Any], produce: Any) -> None:
        _check(failures, name, cid, key, expected, produce, strict)

    messages = list(conv["messages"])
    if "tools" in conv:
        expected_prefix = rec["tool_prefix"]
        if isinstance(expected_prefix, dict):
            with pytest.raises(NotImplementedError):
                renderer.create_conversation_prefix_with_tools(conv["tools"], conv.get("system_prompt", ""))
            return
        prefix = renderer.create_conversation_prefix_with_tools(conv["tools"], conv.get("system_prompt", ""))
        assert [message_to_jsonable(m) for m in prefix] == expected_prefix
        messages = [dict(m) for m in expected_prefix] + messages
    history = messages[:-1] if messages[-1]["role"] == "assistant" else messages

    def tokens(mi: Any) -> dict[str, Any]:
        return {"tokens": mi.to_ints()}

    def example(pair: Any) -> dict[str, Any]:
        mi, w = pair
        assert len(w) == mi.length
        return {"tokens": mi.to_ints(), "weights": w.tolist()}

    def expect_example(e: dict[str, Any]) -> dict[str, Any]:
        return e if "error" in e else {"tokens": e["tokens"], "weights": _unrle(e["weights"])}

    check("generation", rec["generation"], lambda: tokens(renderer.build_generation_prompt(history)))
    check(
        "generation_prefill",
        rec["generation_prefill"],
        lambda: tokens(renderer.build_generation_prompt(history, prefill="Sure")),
    )
    for mode, expected in rec["supervised"].items():
        check(
            f"supervised.{mode}",
            expect_example(expected),
            lambda mode=mode: example(renderer.build_supervised_example(messages, TrainOnWhat(mode))),
        )
    for mode, expected in rec["examples"].items():
        exp = expected if isinstance(expected, dict) else {"list": [expect_example(e) for e in expected]}
        check(
            f"examples.{mode}",
            exp,
            lambda mode=mode: {
                "list": [example(p) for p in renderer.build_supervised_examples(messages, TrainOnWhat(mode))]
            },
        )
    if "parse" in rec:
        parsed = rec["parse"]
        exp = parsed if "error" in parsed else {"message": parsed["message"], "termination": parsed["termination"]}

        def parse() -> dict[str, Any]:
            msg, term = renderer.parse_response(parsed["response"])
            return {"message": message_to_jsonable(msg), "termination": str(term)}

        check("parse", exp, parse)
    assert not failures, "\n".join(failures)
