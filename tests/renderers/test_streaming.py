"""Streaming parse: deltas reassemble the response, tags never leak, and the last event is the full parse."""

from __future__ import annotations

from typing import Any

import pytest

from tinkerlite.renderers import (
    Message,
    StreamingMessageHeader,
    StreamingTextDelta,
    StreamingThinkingDelta,
    Utf8TokenDecoder,
    get_renderer,
)

from .tokenizers_for_tests import load

STREAMING = [
    ("qwen3", "qwen3"),
    ("deepseekv3_thinking", "deepseek_v3_1"),
    ("kimi_k2", "kimi_k2"),
    ("qwen3_5", "qwen3"),
    ("kimi_k25", "kimi_k2"),
    ("nemotron3", "qwen3"),
    ("deepseekv4_1", "deepseek_v3_1"),
    ("glm5_3_max_reasoning", "glm5_3_standin"),
]


def _events(name: str, family: str, reply: Message, *, truncate: int = 0) -> tuple[list[Any], Any, list[int]]:
    renderer = get_renderer(name, load(family))
    conv: Any = [{"role": "user", "content": "Why?"}, reply]
    prompt = renderer.build_generation_prompt(conv[:-1]).to_ints()
    tokens = renderer.build_supervised_example(conv)[0].to_ints()[len(prompt) :]
    if truncate:
        tokens = tokens[:-truncate]
    return list(renderer.parse_response_streaming(tokens)), renderer, tokens


@pytest.mark.parametrize(("name", "family"), STREAMING)
def test_stream_reassembles_and_ends_with_the_parse(name: str, family: str) -> None:
    reply: Any = {
        "role": "assistant",
        "content": [{"type": "thinking", "thinking": "Because 日本 🙂 ok"}, {"type": "text", "text": "It is <so>."}],
    }
    events, renderer, tokens = _events(name, family, reply)
    assert isinstance(events[0], StreamingMessageHeader)
    assert events[-1] == renderer.parse_response(tokens)[0]
    thinking = "".join(e.thinking for e in events if isinstance(e, StreamingThinkingDelta))
    text = "".join(e.text for e in events if isinstance(e, StreamingTextDelta))
    assert thinking.strip("\n") == "Because 日本 🙂 ok"
    assert text.strip("\n") == "It is <so>."
    assert "<think>" not in text + thinking and "</think>" not in text + thinking
    indices = [e.content_index for e in events if isinstance(e, (StreamingTextDelta, StreamingThinkingDelta))]
    assert indices == sorted(indices)


@pytest.mark.parametrize(("name", "family"), STREAMING)
def test_truncated_stream_still_parses_content(name: str, family: str) -> None:
    reply: Any = {
        "role": "assistant",
        "content": [{"type": "thinking", "thinking": "T"}, {"type": "text", "text": "A"}],
    }
    events, _, _ = _events(name, family, reply, truncate=1)
    final = events[-1]
    assert isinstance(final, dict) and final["role"] == "assistant"
    assert isinstance(final["content"], list)  # content blocks parsed even without the stop token


def test_utf8_decoder_holds_back_split_characters() -> None:
    tok = load("qwen3")
    ids = tok.encode("𓀀")
    assert len(ids) == 3  # a rare 4-byte character spans several byte-level tokens
    dec = Utf8TokenDecoder(tok)
    outputs = [dec.decode([i]) for i in ids]
    assert all(o is None for o in outputs[:-1]) and outputs[-1] == "𓀀"
    assert not dec.has_pending() and dec.flush() == ""


def test_reset_makes_parsers_reusable() -> None:
    from tinkerlite.renderers import ReasoningStreamingParser

    renderer = get_renderer("qwen3", load("qwen3"))
    tokens = [*load("qwen3").encode("<think>hm</think>ok"), renderer._end_message_token]
    parser = ReasoningStreamingParser(renderer.tokenizer, renderer._end_message_token, renderer.parse_response)

    def run() -> list[Any]:
        out = [e for t in tokens for e in parser.feed(t)]
        return out + list(parser.finish())

    first = run()
    parser.reset()
    assert run() == first
    dec = Utf8TokenDecoder(load("qwen3"))
    assert dec.decode(load("qwen3").encode("𓀀")[:1]) is None and dec.has_pending()
    dec.reset()
    assert not dec.has_pending()


def test_non_streaming_renderer_refuses() -> None:
    with pytest.raises(NotImplementedError):
        list(get_renderer("gpt_oss_no_sysprompt", load("gpt_oss")).parse_response_streaming([1]))
