"""Cross-check against the official HF chat templates shipped in the pinned npm packages (jinja2, offline).

Qwen3: generation prompts are compared token for token with the template rendered and encoded in one
piece (what ``apply_chat_template(tokenize=True)`` does); supervised examples are compared as text. The
places where the cookbook -- and so tinkerlite -- deliberately differs from the template are listed in
QWEN3_TEMPLATE_DIVERGENCES, and the test checks that list is exactly the set of mismatches.

DeepSeek: the only template available offline is V3's; the cookbook renders V3.1, whose non-thinking
mode adds ``</think>`` after ``<｜Assistant｜>``. With that token removed, plain chats must match V3's.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from tests.testdata import chat_template, need
from tinkerlite.renderers import Message, Renderer, RendererError, get_renderer, make_renderer

from .tokenizers_for_tests import load

jinja2 = pytest.importorskip("jinja2")
from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402

GOLDEN_CONVERSATIONS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "goldens" / "qwen3@qwen3.json").read_text(encoding="utf-8")
)["conversations"]

# (renderer, conversation id, "generation" | "supervised") -> why the cookbook differs from the template.
QWEN3_TEMPLATE_DIVERGENCES = {
    ("qwen3", "tools_single_call", "supervised"): "reasoning of a tool-calling turn after the last user "
    "message is kept by the template, stripped by the cookbook (it is not the last message)",
    ("qwen3", "tools_single_call", "generation"): "same: reasoning of the tool-calling turn",
    ("qwen3", "whitespace", "generation"): "tokenization boundary: a history message starting with newlines; "
    "the template encodes 'assistant\\n' + '\\n\\n...' in one piece, the cookbook encodes header and body apart",
    ("qwen3", "tools_parallel_no_text", "generation"): "the template groups consecutive tool results in one "
    "user block; the cookbook's Qwen3 renderer closes each one",
    ("qwen3", "tools_parallel_no_text", "supervised"): "same: consecutive tool results",
    ("qwen3_disable_thinking", "tools_parallel_no_text", "generation"): "same: consecutive tool results",
    ("qwen3_disable_thinking", "tools_parallel_no_text", "supervised"): "same: consecutive tool results",
    ("qwen3_disable_thinking", "tools_single_call", "generation"): "same: reasoning of the tool-calling turn",
    ("qwen3_disable_thinking", "tools_single_call", "supervised"): "same: reasoning of the tool-calling turn",
    ("qwen3_disable_thinking", "whitespace", "generation"): "same: tokenization boundary",
    ("qwen3_disable_thinking", "no_user_message", "supervised"): "the cookbook refuses it: no user message means "
    "the template writes no empty think block, but the generation prompt always has one",
    ("qwen3_disable_thinking", "consecutive_assistants", "supervised"): "the cookbook refuses it: the prompt "
    "for the last turn frames the previous assistant message, the training sequence does not",
}
# Conversations where the template itself would tokenize user text as control tokens (HF
# apply_chat_template does not split special tokens); compared as text only.
TEXT_ONLY = {"special_token_literals"}
SKIP = {"customized", "thinking_last", "thinking_multi_turn", "thinking_inline_string", "tools_then_new_user_turn"}
# Inputs the cookbook renders by dropping or defaulting data: pinned by the cookbook goldens, not templates.
SKIP |= {
    "unknown_role",
    "tool_calls_without_declarations",
    "malformed_tool_arguments",
    "non_object_tool_arguments",
    "tool_result_without_name",
}


def _env() -> Any:
    def raise_exception(msg: str) -> None:
        raise jinja2.exceptions.TemplateError(msg)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = lambda x, indent=None, separators=None, sort_keys=False: json.dumps(
        x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys
    )
    env.globals["raise_exception"] = raise_exception
    return env


def _nfc(text: str) -> str:
    """Qwen's tokenizer NFC-normalizes, so decoded text is compared with the template's text normalized."""
    return unicodedata.normalize("NFC", text)


def _apply(template: str, renderer: Renderer, messages: list[Message], **kwargs: Any) -> str:
    hf = [renderer.to_openai_message(m) for m in messages]
    return str(_env().from_string(template).render(messages=hf, **kwargs))


def _qwen_mismatches(name: str, thinking_kwargs: dict[str, Any]) -> set[tuple[str, str, str]]:
    template = need(chat_template, "qwen3")
    assert template is not None
    renderer = get_renderer(name, load("qwen3"))
    tok = renderer.tokenizer
    found: set[tuple[str, str, str]] = set()
    for conv in GOLDEN_CONVERSATIONS:
        if conv["id"] in SKIP:
            continue
        messages: list[Message] = list(conv["messages"])
        tools = None
        if "tools" in conv:
            tools = [{"type": "function", "function": t} for t in conv["tools"]]
            if conv.get("system_prompt"):
                messages = [Message(role="system", content=conv["system_prompt"]), *messages]
            ours_prefix = renderer.create_conversation_prefix_with_tools(conv["tools"], conv.get("system_prompt", ""))
            ours_msgs = [*ours_prefix, *conv["messages"]]
        else:
            ours_msgs = messages
        history, ours_history = messages[:-1], ours_msgs[:-1]
        gen_text = _apply(template, renderer, history, tools=tools, add_generation_prompt=True, **thinking_kwargs)
        ours_gen = renderer.build_generation_prompt(ours_history).to_ints()
        same = tok.decode(ours_gen) == _nfc(gen_text)
        if conv["id"] not in TEXT_ONLY:
            same = same and ours_gen == tok.encode(gen_text)
        if not same:
            found.add((name, conv["id"], "generation"))
        sup_text = _apply(template, renderer, messages, tools=tools, add_generation_prompt=False, **thinking_kwargs)
        try:
            ours_sup = tok.decode(renderer.build_supervised_example(ours_msgs)[0].to_ints())
        except RendererError:
            found.add((name, conv["id"], "supervised"))
            continue
        if ours_sup != _nfc(sup_text.removesuffix("\n")):
            found.add((name, conv["id"], "supervised"))
    return found


@pytest.mark.parametrize(("name", "kwargs"), [("qwen3", {}), ("qwen3_disable_thinking", {"enable_thinking": False})])
def test_qwen3_matches_official_template_except_documented(name: str, kwargs: dict[str, Any]) -> None:
    expected = {k for k in QWEN3_TEMPLATE_DIVERGENCES if k[0] == name}
    assert _qwen_mismatches(name, kwargs) == expected


def test_deepseek_v3_template_layout() -> None:
    """V3.1 = V3's layout plus ``</think>`` after ``<｜Assistant｜>`` (non-thinking mode)."""
    template = need(chat_template, "deepseek_v3")
    assert template is not None
    renderer = get_renderer("deepseekv3", load("deepseek_v3_1"))
    tok = renderer.tokenizer
    checked = 0
    for conv in GOLDEN_CONVERSATIONS:
        if conv["id"] in SKIP or "tools" in conv or conv["id"] in ("no_user_message", "empty_messages"):
            continue
        messages: list[Message] = list(conv["messages"])
        hf = _apply(template, renderer, messages, bos_token="<｜begin▁of▁sentence｜>", add_generation_prompt=False)
        ours = tok.decode(renderer.build_supervised_example(messages)[0].to_ints())
        assert ours.replace("<｜Assistant｜></think>", "<｜Assistant｜>") == hf, conv["id"]
        checked += 1
    assert checked >= 6


HARMONY_GOLDEN = Path(__file__).parent / "goldens" / "harmony" / "openai_harmony@gpt_oss.json"
# Where the cookbook's gpt-oss renderer differs from OpenAI's own Harmony renderer (generation prompts).
_INSTRUCTIONS = (
    "a system message becomes a developer message '# Instructions\\n\\n{text}\\n\\n<|end|>' (as the HF template "
    "writes it); openai-harmony writes no blank line before <|end|>"
)
HARMONY_DIVERGENCES = {
    "thinking_multi_turn": "the cookbook renders the analysis channel of history assistant messages; Harmony "
    "drops it once a final answer follows (auto_drop_analysis); also " + _INSTRUCTIONS,
    "system_multi_turn": _INSTRUCTIONS,
    "unicode": _INSTRUCTIONS,
    "ends_with_user": _INSTRUCTIONS,
}


def test_gpt_oss_matches_openai_harmony_except_documented() -> None:
    doc = json.loads(HARMONY_GOLDEN.read_text(encoding="utf-8"))
    convs = {c["id"]: c for c in doc["conversations"]}
    mismatched = set()
    for rec in doc["records"]:
        renderer = make_renderer(rec["renderer"], load("gpt_oss"), current_date=doc["gpt_oss_current_date"])
        messages = convs[rec["id"]]["messages"]
        history = messages[:-1] if messages[-1]["role"] == "assistant" else messages
        if renderer.build_generation_prompt(history).to_ints() != rec["generation"]["tokens"]:
            mismatched.add(rec["id"])
    assert len(doc["records"]) >= 12
    assert mismatched == set(HARMONY_DIVERGENCES)
