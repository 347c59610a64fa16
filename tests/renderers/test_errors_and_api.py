"""Bad input gives a RendererError naming the message index and field; API surface behaves as documented."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from tinkerlite.errors import ValidationError
from tinkerlite.renderers import (
    BUILTIN_RENDERER_NAMES,
    ParseTermination,
    Renderer,
    RendererError,
    ToolCall,
    TrainOnWhat,
    classify_parse_failure,
    get_registered_renderer_names,
    get_renderer,
    get_text_content,
    is_renderer_registered,
    make_renderer,
    register_renderer,
    unregister_renderer,
)
from tinkerlite.renderers.role_colon import RoleColonRenderer

from .tokenizers_for_tests import load

FAMILY = {
    "role_colon": "llama3",
    "llama3": "llama3",
    "qwen3": "qwen3",
    "qwen3_disable_thinking": "qwen3",
    "qwen3_instruct": "qwen3",
    "deepseekv3": "deepseek_v3_1",
    "deepseekv3_disable_thinking": "deepseek_v3_1",
    "deepseekv3_thinking": "deepseek_v3_1",
    "gpt_oss_no_sysprompt": "gpt_oss",
    "gpt_oss_low_reasoning": "gpt_oss",
    "gpt_oss_medium_reasoning": "gpt_oss",
    "gpt_oss_high_reasoning": "gpt_oss",
    "kimi_k2": "kimi_k2",
    # Families without their own pinned tokenizer data use the closest real one (same special tokens).
    **dict.fromkeys(
        (
            "qwen3_vl",
            "qwen3_vl_instruct",
            "qwen3_5",
            "qwen3_5_disable_thinking",
            "qwen3_5_preserve_thinking",
            "qwen3_8_xhigh_reasoning",
            "qwen3_8_medium_reasoning",
            "qwen3_8_low_reasoning",
            "qwen3_8_disable_thinking",
        ),
        "qwen3",
    ),
    **dict.fromkeys(
        ("kimi_k25", "kimi_k25_disable_thinking", "kimi_k26", "kimi_k26_disable_thinking"),
        "kimi_k2",
    ),
    "kimi_k26_preserve_thinking": "kimi_k2",
    **{n: "qwen3" for n in BUILTIN_RENDERER_NAMES if n.startswith("nemotron3")},
    **{n: "deepseek_v3_1" for n in BUILTIN_RENDERER_NAMES if n.startswith("deepseekv4_1")},
    **{n: "glm5_3_standin" for n in BUILTIN_RENDERER_NAMES if n.startswith("glm5_3")},
}
TOOL_RENDERERS = [n for n in BUILTIN_RENDERER_NAMES if n not in ("role_colon", "llama3")]


def r(name: str) -> Renderer:
    return make_renderer(name, load(FAMILY[name]), current_date="2026-01-15")


def strict(name: str) -> Renderer:
    """Strict mode: raises where the cookbook (and tinkerlite's default) drops or defaults data."""
    return make_renderer(name, load(FAMILY[name]), current_date="2026-01-15", strict=True)


def _field(exc: pytest.ExceptionInfo[RendererError]) -> str | None:
    return exc.value.field


def test_every_builtin_name_builds() -> None:
    assert set(FAMILY) == set(BUILTIN_RENDERER_NAMES)
    for name in BUILTIN_RENDERER_NAMES:
        assert isinstance(r(name), Renderer)


def test_renderer_error_is_a_validation_error() -> None:
    assert issubclass(RendererError, ValidationError)
    assert issubclass(RendererError, ValueError)


def test_unknown_renderer_name() -> None:
    with pytest.raises(RendererError, match="Unknown renderer"):
        get_renderer("qwen9", load("qwen3"))


@pytest.mark.parametrize("name", ["llama3", "qwen3", "deepseekv3", "gpt_oss_no_sysprompt", "kimi_k2", "role_colon"])
def test_strict_unknown_role(name: str) -> None:
    msgs: Any = [{"role": "user", "content": "hi"}, {"role": "robot", "content": "beep"}]
    with pytest.raises(RendererError) as exc:
        strict(name).build_supervised_example(msgs)
    assert _field(exc) == "messages[1].role"
    assert "robot" in str(exc.value)


def test_strict_gpt_oss_tool_result_without_name() -> None:
    msgs: Any = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "", "tool_calls": [_call('{"city": "Oslo"}')]},
        {"role": "tool", "content": "cold"},
    ]
    with pytest.raises(RendererError) as exc:
        strict("gpt_oss_no_sysprompt").build_generation_prompt(msgs)
    assert _field(exc) == "messages[2].name"


@pytest.mark.parametrize("mode", [m for m in TrainOnWhat if m is not TrainOnWhat.CUSTOMIZED])
def test_trainable_outside_customized(mode: TrainOnWhat) -> None:
    msgs: Any = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "trainable": True}]
    with pytest.raises(RendererError) as exc:
        r("qwen3").build_supervised_example(msgs, mode)
    assert _field(exc) == "messages[1].trainable"


def test_customized_needs_trainable_everywhere() -> None:
    msgs: Any = [{"role": "user", "content": "q", "trainable": False}, {"role": "assistant", "content": "a"}]
    with pytest.raises(RendererError) as exc:
        r("llama3").build_supervised_example(msgs, TrainOnWhat.CUSTOMIZED)
    assert _field(exc) == "messages[1].trainable"


def test_customized_weights_follow_trainable() -> None:
    renderer = r("llama3")
    msgs: Any = [
        {"role": "user", "content": "q", "trainable": True},
        {"role": "assistant", "content": "a", "trainable": False},
    ]
    mi, w = renderer.build_supervised_example(msgs, "customized")  # type: ignore[arg-type]
    tokens, weights = mi.to_ints(), w.tolist()
    trained = [t for t, x in zip(tokens, weights, strict=True) if x == 1.0]
    assert renderer.tokenizer.decode(trained) == "q<|eot_id|>"


@pytest.mark.parametrize("name", ["qwen3_disable_thinking", "deepseekv3", "deepseekv3_disable_thinking"])
@pytest.mark.parametrize("mode", list(TrainOnWhat))
def test_strict_thinking_in_disable_thinking_renderer(name: str, mode: TrainOnWhat) -> None:
    reply = {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "4"}]}
    msgs: Any = [{"role": "user", "content": "2+2?"}, reply]
    if mode is TrainOnWhat.CUSTOMIZED:
        msgs = [{**m, "trainable": True} for m in msgs]
    with pytest.raises(RendererError) as exc:
        strict(name).build_supervised_example(msgs, mode)
    assert _field(exc) == "messages[1].content"


def test_disable_thinking_accepts_reasoning_in_history_only() -> None:
    think = [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "4"}]
    msgs: Any = [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": think},
        {"role": "user", "content": "and 3+3?"},
        {"role": "assistant", "content": "6"},
    ]
    for name in ("qwen3_disable_thinking", "deepseekv3"):
        renderer = r(name)
        text = renderer.tokenizer.decode(renderer.build_supervised_example(msgs)[0].to_ints())
        assert "hmm" not in text  # history reasoning is stripped, as the HF templates do


def _call(arguments: str, name: str = "get_weather") -> dict[str, Any]:
    return {"type": "function", "id": None, "function": {"name": name, "arguments": arguments}}


@pytest.mark.parametrize("name", TOOL_RENDERERS)
def test_strict_malformed_tool_call_json(name: str) -> None:
    msgs: Any = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "", "tool_calls": [_call('{"city": "Oslo"}'), _call('{"city": ')]},
    ]
    with pytest.raises(RendererError) as exc:
        strict(name).build_supervised_example(msgs)
    assert _field(exc) == "messages[1].tool_calls[1].arguments"


@pytest.mark.parametrize("name", TOOL_RENDERERS)
def test_strict_tool_call_arguments_must_be_an_object(name: str) -> None:
    msgs: Any = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": "", "tool_calls": [_call("[1, 2]")]},
    ]
    with pytest.raises(RendererError) as exc:
        strict(name).build_generation_prompt(msgs)
    assert _field(exc) == "messages[1].tool_calls[0].arguments"


@pytest.mark.parametrize("name", TOOL_RENDERERS)
def test_openai_dict_and_toolcall_render_identically(name: str) -> None:
    renderer = r(name)
    as_dict: Any = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "", "tool_calls": [{**_call('{"city": "Oslo"}'), "id": "call_1"}]},
        {"role": "tool", "content": "cold", "name": "get_weather", "tool_call_id": "call_1"},
        {"role": "assistant", "content": "It is cold."},
    ]
    as_obj: Any = [dict(m) for m in as_dict]
    as_obj[1]["tool_calls"] = [
        ToolCall(id="call_1", function=ToolCall.FunctionBody(name="get_weather", arguments='{"city": "Oslo"}'))
    ]
    a, wa = renderer.build_supervised_example(as_dict)
    b, wb = renderer.build_supervised_example(as_obj)
    assert a.to_ints() == b.to_ints() and wa.tolist() == wb.tolist()


@pytest.mark.parametrize("name", ["llama3", "role_colon"])
def test_strict_tool_calls_refused_where_the_format_has_none(name: str) -> None:
    msgs: Any = [{"role": "user", "content": "x"}, {"role": "assistant", "content": "", "tool_calls": [_call("{}")]}]
    with pytest.raises(RendererError) as exc:
        strict(name).build_supervised_example(msgs)
    assert _field(exc) == "messages[1].tool_calls"
    with pytest.raises(NotImplementedError):
        r(name).create_conversation_prefix_with_tools([])


def test_bad_content_shapes() -> None:
    renderer = r("qwen3")
    with pytest.raises(RendererError) as exc:
        renderer.build_generation_prompt([{"role": "user", "content": [{"type": "image", "image": "http://x"}]}])
    assert _field(exc) == "messages[0].content[0]"
    with pytest.raises(RendererError) as exc:
        renderer.build_generation_prompt([{"role": "user", "content": 5}])  # type: ignore[typeddict-item]
    assert _field(exc) == "messages[0].content"
    with pytest.raises(RendererError) as exc:
        bad_part: Any = [{"role": "user", "content": [{"type": "text"}]}]
        renderer.build_generation_prompt(bad_part)
    assert _field(exc) == "messages[0].content[0]"
    with pytest.raises(RendererError):
        renderer.build_generation_prompt("hello")  # type: ignore[arg-type]


def test_deepseek_system_message_only_first() -> None:
    msgs: Any = [{"role": "user", "content": "q"}, {"role": "system", "content": "late"}]
    with pytest.raises(RendererError) as exc:
        r("deepseekv3").build_generation_prompt(msgs)
    assert _field(exc) == "messages[1].role"
    as_user = get_renderer("deepseekv3", load("deepseek_v3_1"))
    as_user.system_role_as_user = True  # type: ignore[attr-defined]
    assert as_user.build_generation_prompt(msgs).length > 0


def test_weights_align_with_tokens_and_are_float32() -> None:
    renderer = r("qwen3")
    msgs: Any = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    mi, w = renderer.build_supervised_example(msgs)
    assert w.dtype == "float32" and len(w) == mi.length
    assert all(c.length for c in mi.chunks)  # empty chunks are dropped


def test_empty_chunks_dropped_from_generation_prompt() -> None:
    renderer = r("deepseekv3_thinking")
    msgs: Any = [
        {"role": "user", "content": ""},
        {"role": "assistant", "content": "", "tool_calls": [_call("{}")]},
        {"role": "tool", "content": "ok"},
    ]
    assert all(c.length for c in renderer.build_generation_prompt(msgs).chunks)


def test_gpt_oss_date_is_injectable() -> None:
    msgs: Any = [{"role": "user", "content": "hi"}]
    renderer = make_renderer("gpt_oss_low_reasoning", load("gpt_oss"), current_date="2030-02-03")
    text = renderer.tokenizer.decode(renderer.build_generation_prompt(msgs).to_ints())
    assert "Current date: 2030-02-03" in text and "Reasoning: low" in text


def test_registry_round_trip() -> None:
    name = "Test/role_colon_copy"
    register_renderer(name, lambda tok, _img: RoleColonRenderer(tok))
    try:
        assert is_renderer_registered(name) and name in get_registered_renderer_names()
        renderer = get_renderer(name, load("llama3"))
        assert isinstance(renderer, RoleColonRenderer)
    finally:
        assert unregister_renderer(name)
    assert not is_renderer_registered(name) and not unregister_renderer(name)


def test_pickle_round_trip_through_get_renderer() -> None:
    from tinkerlite.tokenizers import get_tokenizer

    from .tokenizers_for_tests import family_dir

    tokenizer = get_tokenizer(str(family_dir("gpt_oss")))
    renderer = make_renderer("gpt_oss_low_reasoning", tokenizer, current_date="2030-01-01")
    clone = pickle.loads(pickle.dumps(renderer))
    msgs: Any = [{"role": "user", "content": "hi"}]
    assert clone.build_generation_prompt(msgs).to_ints() == renderer.build_generation_prompt(msgs).to_ints()


def test_pickling_needs_a_name() -> None:
    renderer = RoleColonRenderer(load("llama3"))
    with pytest.raises(pickle.PicklingError):
        pickle.dumps(renderer)


def test_parse_termination_and_failures() -> None:
    qwen = r("qwen3")
    im_end = qwen.get_stop_sequences()[0]
    assert isinstance(im_end, int)
    enc = qwen.tokenizer.encode
    msg, term = qwen.parse_response(enc("truncated"))
    assert term is ParseTermination.MALFORMED and not term.is_clean and bool(term)
    assert classify_parse_failure(msg, term) is not None
    with pytest.raises(RendererError):
        qwen.parse_response([*enc("a"), im_end, *enc("b"), im_end])
    msg, term = qwen.parse_response([*enc('<tool_call>\n{"name": "f", "arguments": {bad}}\n</tool_call>'), im_end])
    assert term.is_stop_sequence and msg["unparsed_tool_calls"][0].error.startswith("Invalid JSON")
    msg, term = qwen.parse_response([*enc('ok <tool_call>\n{"name": "f"'), im_end])
    assert "unterminated tool block" in msg["unparsed_tool_calls"][0].error
    assert classify_parse_failure(msg, term) is not None and get_text_content(msg).startswith("ok")


def test_role_colon_parse_terminations() -> None:
    renderer = r("role_colon")
    tok = renderer.tokenizer
    eos = tok.eos_token_id
    assert eos is not None
    assert renderer.parse_response(tok.encode(" hi\n\nUser:"))[1] is ParseTermination.STOP_SEQUENCE
    assert renderer.parse_response([*tok.encode(" hi"), eos])[1] is ParseTermination.EOS
    assert renderer.parse_response(tok.encode(" hi"))[1] is ParseTermination.MALFORMED
    msg, term = renderer.parse_response(tok.encode(" a\n\nUser: b\n\nUser:"))
    assert term is ParseTermination.MALFORMED and msg["content"] == "a"


def test_gpt_oss_parses_a_tool_call() -> None:
    renderer = r("gpt_oss_no_sysprompt")
    enc = renderer.tokenizer.encode
    text = (
        "<|channel|>analysis<|message|>need weather<|end|><|start|>assistant to=functions.get_weather"
        '<|channel|>commentary <|constrain|>json<|message|>{"city": "Oslo"}<|call|>'
    )
    msg, term = renderer.parse_response(enc(text))
    assert term is ParseTermination.STOP_SEQUENCE
    assert msg["content"] == [{"type": "thinking", "thinking": "need weather"}]
    assert msg["tool_calls"][0].function.name == "get_weather"


def test_to_openai_message() -> None:
    msg: Any = {
        "role": "assistant",
        "content": [{"type": "thinking", "thinking": "T"}, {"type": "text", "text": "A"}],
        "tool_calls": [_call('{"x": 1}')],
    }
    out = r("qwen3").to_openai_message(msg)
    assert out["content"] == "A" and out["reasoning_content"] == "T"
    assert out["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"x": 1}'}
    assert r("llama3").to_openai_message(msg)["content"] == "<think>T</think>A"


def test_build_supervised_examples_splits_without_extension_property() -> None:
    msgs: Any = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
        {"role": "assistant", "content": "d"},
    ]
    assert len(r("qwen3").build_supervised_examples(msgs, TrainOnWhat.ALL_ASSISTANT_MESSAGES)) == 2
    assert len(r("llama3").build_supervised_examples(msgs, TrainOnWhat.ALL_ASSISTANT_MESSAGES)) == 1
    with pytest.raises(NotImplementedError):
        r("qwen3").build_supervised_examples(msgs, TrainOnWhat.ALL_MESSAGES)


@pytest.mark.parametrize("name", ["kimi_k2", "gpt_oss_low_reasoning", "llama3", "deepseekv3"])
def test_multipart_text_names_the_callers_index(name: str) -> None:
    """Kimi and gpt-oss prepend their own system message; errors still name the caller's index."""
    two_parts: Any = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    msgs: Any = [{"role": "user", "content": two_parts}]
    with pytest.raises(RendererError) as exc:
        r(name).build_generation_prompt(msgs)
    assert _field(exc) == "messages[0].content"


# ---- default mode: the cookbook's behaviour, one warning per renderer and kind of drop -------------------


def _drop_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [rec.getMessage() for rec in caplog.records if "logged once per renderer" in rec.getMessage()]


@pytest.mark.parametrize("name", ["llama3", "qwen3", "gpt_oss_no_sysprompt", "kimi_k2", "role_colon", "qwen3_5"])
def test_any_role_renders_by_default(name: str) -> None:
    msgs: Any = [{"role": "user", "content": "hi"}, {"role": "player", "content": "I guess 5"}]
    renderer = r(name)
    text = renderer.tokenizer.decode(renderer.build_generation_prompt(msgs).to_ints())
    assert ("Player" if name == "role_colon" else "player") in text


@pytest.mark.parametrize("name", ["llama3", "role_colon"])
def test_tool_calls_dropped_with_one_warning(name: str, caplog: pytest.LogCaptureFixture) -> None:
    renderer = r(name)
    with_calls: Any = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": "ok", "tool_calls": [_call('{"city": "Oslo"}')]},
    ]
    plain: Any = [with_calls[0], {"role": "assistant", "content": "ok"}]
    with caplog.at_level("WARNING", logger="tinkerlite.renderers"):
        for _ in range(3):
            got = renderer.build_supervised_example(with_calls)
    assert got[0].to_ints() == renderer.build_supervised_example(plain)[0].to_ints()
    warnings_seen = _drop_warnings(caplog)
    assert len(warnings_seen) == 1 and "tool calls" in warnings_seen[0]


def test_gpt_oss_tool_result_without_name_is_functions_unknown(caplog: pytest.LogCaptureFixture) -> None:
    msgs: Any = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "", "tool_calls": [_call('{"city": "Oslo"}')]},
        {"role": "tool", "content": "cold"},
    ]
    renderer = r("gpt_oss_no_sysprompt")
    with caplog.at_level("WARNING", logger="tinkerlite.renderers"):
        text = renderer.tokenizer.decode(renderer.build_generation_prompt(msgs).to_ints())
        renderer.build_generation_prompt(msgs)
    assert "<|start|>functions.unknown to=assistant" in text
    assert len(_drop_warnings(caplog)) == 1


def test_deepseek_drops_last_reasoning_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    reply = {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "4"}]}
    msgs: Any = [{"role": "user", "content": "2+2?"}, reply]
    renderer = r("deepseekv3")
    with caplog.at_level("WARNING", logger="tinkerlite.renderers"):
        tokens, _ = renderer.build_supervised_example(msgs)
        renderer.build_supervised_example(msgs)
    assert "hmm" not in renderer.tokenizer.decode(tokens.to_ints())
    assert len(_drop_warnings(caplog)) == 1


def test_strict_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    msgs: Any = [{"role": "user", "content": "hi"}, {"role": "robot", "content": "beep"}]
    monkeypatch.setenv("TINKERLITE_RENDERER_STRICT", "1")
    with pytest.raises(RendererError):
        r("qwen3").build_generation_prompt(msgs)
    assert make_renderer("qwen3", load("qwen3"), strict=False).build_generation_prompt(msgs).length > 0
    monkeypatch.setenv("TINKERLITE_RENDERER_STRICT", "0")
    assert r("qwen3").build_generation_prompt(msgs).length > 0

