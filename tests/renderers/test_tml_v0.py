"""tinkerlite's pure-Python ``tml_v0`` against the cookbook's own TmlV0Renderer on the real tml-renderers wheel.

Goldens: ``tests/golden/tml_v0_goldens.json``, from ``tests/golden/make_tml_v0_goldens.py`` (cookbook 0.6.1's
renderer on tml-renderers 0.2.1, the newest release on PyPI; the cookbook pins >=0.4.1, which is unpublished).
Every generation prompt, supervised example (each TrainOnWhat), split example list, tool prefix, effort
variant and parse must match token for token, and wherever the cookbook raised tinkerlite raises too. The
tokenizer is tinkerlite's own o200k_base_chat, built from the pinned o200k_base rank file.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from tests.testdata import need, tiktoken_file
from tinkerlite.renderers import RendererError, TrainOnWhat, get_renderer, message_to_jsonable
from tinkerlite.renderers.tml_v0 import TmlV0Renderer
from tinkerlite.tokenizer_utils import TmlRenderersTokenizerAdapter
from tinkerlite.tokenizers.o200k_chat import O200kBaseChatTokenizer

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "tml_v0_goldens.json").read_text(encoding="utf-8"))
CONVS = {c["id"]: c for c in GOLDEN["conversations"]}
ERRORS = (RendererError, NotImplementedError, ValueError)


@pytest.fixture(scope="module")
def tokenizer() -> TmlRenderersTokenizerAdapter:
    path = need(tiktoken_file, "gpt_oss")  # o200k_base.tiktoken: the same ranks (sha256-pinned)
    return TmlRenderersTokenizerAdapter("thinkingmachines/Inkling", O200kBaseChatTokenizer(path))


@pytest.fixture(scope="module")
def renderer(tokenizer: TmlRenderersTokenizerAdapter) -> TmlV0Renderer:
    r = get_renderer("tml_v0", tokenizer)
    assert isinstance(r, TmlV0Renderer)
    return r


def _unrle(runs: list[list[float]]) -> list[float]:
    return [float(v) for v, n in runs for _ in range(int(n))]


def _expect(e: dict[str, Any]) -> dict[str, Any]:
    return e if "error" in e else {"tokens": e["tokens"], "weights": _unrle(e["weights"])}


def _example(pair: Any) -> dict[str, Any]:
    mi, w = pair
    assert len(w) == mi.length
    return {"tokens": mi.to_ints(), "weights": w.tolist()}


def _check(failures: list[str], where: str, expected: dict[str, Any], produce: Any) -> None:
    try:
        got = produce()
    except ERRORS as e:
        if "error" not in expected:
            failures.append(f"{where}: raised {type(e).__name__}: {e} (the cookbook rendered it)")
        return
    if "error" in expected:
        failures.append(f"{where}: rendered, but the cookbook raised {expected['error']}: {expected['message']}")
    elif got != expected:
        failures.append(f"{where}: differs from the cookbook\n  got      {got}\n  expected {expected}")


def _cookbook_messages(conv: dict[str, Any], rec: dict[str, Any]) -> list[dict[str, Any]]:
    messages = [dict(m) for m in conv["messages"]]
    if "tools" in conv:
        messages = [dict(m) for m in rec["tool_prefix"]] + messages
    return messages


@pytest.mark.parametrize("rec", GOLDEN["records"], ids=[r["id"] for r in GOLDEN["records"]])
def test_matches_cookbook(renderer: TmlV0Renderer, rec: dict[str, Any]) -> None:
    conv = CONVS[rec["id"]]
    failures: list[str] = []
    if "tools" in conv:
        prefix = renderer.create_conversation_prefix_with_tools(conv["tools"], conv.get("system_prompt", ""))
        assert [message_to_jsonable(m) for m in prefix] == rec["tool_prefix"]
    messages = _cookbook_messages(conv, rec)
    history = messages[:-1] if messages[-1]["role"] == "assistant" else messages
    _check(
        failures,
        "generation",
        rec["generation"],
        lambda: {"tokens": renderer.build_generation_prompt(history).to_ints()},
    )
    _check(
        failures,
        "generation_prefill",
        rec["generation_prefill"],
        lambda: {"tokens": renderer.build_generation_prompt(history, prefill="Sure").to_ints()},
    )
    for mode, expected in rec["supervised"].items():
        _check(
            failures,
            f"supervised.{mode}",
            _expect(expected),
            lambda mode=mode: _example(renderer.build_supervised_example(messages, TrainOnWhat(mode))),
        )
    for mode, expected in rec["examples"].items():
        exp = expected if isinstance(expected, dict) else {"list": [_expect(e) for e in expected]}
        _check(
            failures,
            f"examples.{mode}",
            exp,
            lambda mode=mode: {
                "list": [_example(p) for p in renderer.build_supervised_examples(messages, TrainOnWhat(mode))]
            },
        )
    if "parse" in rec:
        parsed = rec["parse"]
        msg, term = renderer.parse_response(parsed["response"])
        got = {"message": message_to_jsonable(msg), "termination": str(term)}
        if got != {"message": parsed["message"], "termination": parsed["termination"]}:
            failures.append(f"parse: got {got}, expected {parsed['message']} / {parsed['termination']}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("rec", GOLDEN["efforts"], ids=[f"{r['id']}-{r['effort']}" for r in GOLDEN["efforts"]])
def test_effort_matches_cookbook(renderer: TmlV0Renderer, rec: dict[str, Any]) -> None:
    conv = CONVS[rec["id"]]
    base = next(r for r in GOLDEN["records"] if r["id"] == rec["id"])
    messages = _cookbook_messages(conv, base)
    effort = float(rec["effort"])
    failures: list[str] = []
    _check(
        failures,
        "generation",
        rec["generation"],
        lambda: {"tokens": renderer.build_generation_prompt(messages[:-1], effort=effort).to_ints()},
    )
    _check(
        failures,
        "supervised",
        _expect(rec["supervised"]),
        lambda: _example(renderer.build_supervised_example(messages, effort=effort)),
    )
    exp = rec["examples"] if isinstance(rec["examples"], dict) else {"list": [_expect(e) for e in rec["examples"]]}
    _check(
        failures,
        "examples",
        exp,
        lambda: {"list": [_example(p) for p in renderer.build_supervised_examples(messages, effort=effort)]},
    )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("case", GOLDEN["parses"], ids=[p["id"] for p in GOLDEN["parses"]])
def test_parse_matches_cookbook(renderer: TmlV0Renderer, case: dict[str, Any]) -> None:
    msg, term = renderer.parse_response(case["response"])
    assert {"message": message_to_jsonable(msg), "termination": str(term)} == {
        "message": case["message"],
        "termination": case["termination"],
    }


def test_tokenizer_matches_tml_renderers(tokenizer: TmlRenderersTokenizerAdapter) -> None:
    tok = GOLDEN["tokenizer"]
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.eos_token_id) == (
        tok["bos_token"],
        tok["eos_token"],
        tok["eos_token_id"],
    )
    for case in tok["encode"]:
        assert tokenizer.encode(case["text"]) == case["ids"], case["text"]
    inner = tokenizer.tml_tokenizer
    assert {str(i): inner.decode_special(i) for i in range(199990, 200100) if inner.decode_special(i)} == tok[
        "specials"
    ]
    assert tokenizer.decode(sorted(int(k) for k in tok["specials"])) == tok["decode_specials"]
    with pytest.raises(ValueError, match="add_special_tokens"):
        tokenizer.encode("x", add_special_tokens=True)


def test_stop_and_extension(renderer: TmlV0Renderer) -> None:
    assert renderer.get_stop_sequences() == GOLDEN["stop"]
    assert renderer.has_extension_property is GOLDEN["has_extension_property"]


def test_ordinary_tokenizer_is_refused() -> None:
    from .tokenizers_for_tests import load

    with pytest.raises(TypeError, match="TML tokenizer adapter"):
        get_renderer("tml_v0", load("qwen3"))
    with pytest.raises(RendererError, match="tml_renderers"):
        get_renderer("tml_v0", load("qwen3"))


def test_effort_is_validated_before_rendering(renderer: TmlV0Renderer) -> None:
    msgs = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]
    for bad in (1.0, -0.01, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"thinking effort must be.*\[0, 1\)"):
            renderer.build_generation_prompt(msgs[:1], effort=bad)
        with pytest.raises(ValueError, match=r"thinking effort must be.*\[0, 1\)"):
            renderer.build_supervised_example(msgs, effort=bad)


def test_prompt_is_prefix_of_example_and_round_trips(renderer: TmlV0Renderer) -> None:
    msgs = [
        {"role": "system", "content": "You are concise."},
        {"role": "user", "content": "Say hello."},
        {
            "role": "assistant",
            "content": [{"type": "thinking", "thinking": "Greet."}, {"type": "text", "text": "Hello."}],
        },
    ]
    prompt = renderer.build_generation_prompt(msgs[:-1], effort=0.6).to_ints()
    mi, w = renderer.build_supervised_example(msgs, effort=0.6)
    toks = mi.to_ints()
    assert toks[: len(prompt)] == prompt
    assert not any(w.tolist()[: len(prompt)]) and all(w.tolist()[len(prompt) :])
    message, term = renderer.parse_response(toks[len(prompt) :])
    assert term.is_clean
    assert message == {"role": "assistant", "content": msgs[-1]["content"]}
    assert "Thinking effort level: 0.6" in renderer.tokenizer.decode(prompt)


def test_image_parts_are_refused_clearly(renderer: TmlV0Renderer) -> None:
    msgs = [{"role": "user", "content": [{"type": "image", "image": "data:image/png;base64,AAAA"}]}]
    with pytest.raises(RendererError, match="media"):
        renderer.build_generation_prompt(msgs)


def test_renderer_pickles(renderer: TmlV0Renderer, tokenizer: TmlRenderersTokenizerAdapter) -> None:
    msgs = [{"role": "user", "content": "Hi"}]
    clone = pickle.loads(pickle.dumps(renderer))
    assert clone.build_generation_prompt(msgs).to_ints() == renderer.build_generation_prompt(msgs).to_ints()


@pytest.mark.parametrize(
    ("messages", "field"),
    [
        ([{"role": "user", "content": "a"}, {"role": "player", "content": "b"}], "messages[1].role"),
        ([{"role": "user", "content": 5}], "messages[0].content"),
        ([{"role": "user", "content": [{"type": "video", "video": "x"}]}], "messages[0].content[0].type"),
        (
            [
                {"role": "user", "content": "a"},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": '{"x": 1'}}],
                },
            ],
            "messages[1].tool_calls[0].arguments",
        ),
        ([{"role": "tool_declare", "content": "not json"}], "messages[0].content"),
    ],
)
def test_bad_input_names_the_field(renderer: TmlV0Renderer, messages: list[Any], field: str) -> None:
    with pytest.raises(RendererError) as exc:
        renderer.build_generation_prompt(messages)
    assert exc.value.field == field
