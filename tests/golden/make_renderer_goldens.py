"""Produce renderer goldens with the official tinker-cookbook 0.6.1 renderers.

Run in a throwaway venv, never in tinkerlite's own environment::

    python -m venv /tmp/venv-cookbook
    /tmp/venv-cookbook/bin/pip install torch==2.13.0   # the local CPU wheel; the cookbook imports torch
    /tmp/venv-cookbook/bin/pip install tinker==0.38.0 transformers pillow
    /tmp/venv-cookbook/bin/pip install --no-deps tinker-cookbook==0.6.1
    /tmp/venv-cookbook/bin/pip install openai-harmony    # optional: OpenAI's own gpt-oss renderer
    mkdir -p /tmp/harmony && cp ~/.cache/tinkerlite/testdata/tiktoken/gpt_oss.tiktoken /tmp/harmony/o200k_base.tiktoken
    TIKTOKEN_ENCODINGS_BASE=/tmp/harmony /tmp/venv-cookbook/bin/python tests/golden/make_renderer_goldens.py

``DIR`` holds ``{family}.json`` (a tokenizer.json) for each family in FAMILIES; without ``--tokenizers``
the files come from the pinned test data every tinkerlite test uses (``tests/testdata.py``, through
``tests/renderers/tokenizers_for_tests.family_dir``, which also derives DeepSeek V3.1's tokenizer).
The cookbook's own ``get_tokenizer`` would download from the HF hub, so each renderer is handed a
``transformers.PreTrainedTokenizerFast`` built from that local file.

Output: ``tests/renderers/goldens/{renderer}@{family}.json`` with the conversations, and for each
conversation the generation prompt, the supervised example (tokens + weights) for every TrainOnWhat,
``build_supervised_examples`` for the splitting modes, the tool prefix messages, and the parse of the
last assistant turn -- or the exception the cookbook raised. Weights are stored run-length encoded.
"""

# mypy: disable-error-code="import-not-found,import-untyped"
# (runs only in the throwaway venv that has tinker-cookbook and transformers)
from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "tests" / "renderers" / "goldens"
GPT_OSS_DATE = "2026-01-15"

# bos/eos as in each model's tokenizer_config.json (only role_colon and parsing read them).
FAMILY_SPECIALS: dict[str, tuple[str | None, str | None]] = {
    "llama3": ("<|begin_of_text|>", "<|eot_id|>"),
    "qwen3": (None, "<|im_end|>"),
    "deepseek_v3_1": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "gpt_oss": ("<|startoftext|>", "<|return|>"),
    "kimi_k2": ("[BOS]", "[EOS]"),
    # Qwen3's tokenizer plus GLM-5.3's control tokens (tests/renderers/tokenizers_for_tests.STANDINS).
    "glm5_3_standin": (None, "<|endoftext|>"),
}
FAMILIES = tuple(FAMILY_SPECIALS)

RENDERERS: list[tuple[str, str]] = [
    ("role_colon", "llama3"),
    ("role_colon", "qwen3"),
    ("llama3", "llama3"),
    ("qwen3", "qwen3"),
    ("qwen3_disable_thinking", "qwen3"),
    ("qwen3_instruct", "qwen3"),
    ("deepseekv3", "deepseek_v3_1"),
    ("deepseekv3_disable_thinking", "deepseek_v3_1"),
    ("deepseekv3_thinking", "deepseek_v3_1"),
    ("gpt_oss_no_sysprompt", "gpt_oss"),
    ("gpt_oss_low_reasoning", "gpt_oss"),
    ("gpt_oss_medium_reasoning", "gpt_oss"),
    ("gpt_oss_high_reasoning", "gpt_oss"),
    ("kimi_k2", "kimi_k2"),
    # Families whose real tokenizer is not in any pinned package are rendered with the closest real one
    # carrying the same special tokens (Qwen3.5/3.6/3.8 and Qwen3-VL: Qwen3's; Kimi K2.5/K2.6: Kimi K2's),
    # on both sides, so every token the renderer emits is still pinned.
    ("qwen3_vl", "qwen3"),
    ("qwen3_vl_instruct", "qwen3"),
    ("qwen3_5", "qwen3"),
    ("qwen3_5_disable_thinking", "qwen3"),
    ("qwen3_5_preserve_thinking", "qwen3"),
    ("qwen3_8_xhigh_reasoning", "qwen3"),
    ("qwen3_8_medium_reasoning", "qwen3"),
    ("qwen3_8_low_reasoning", "qwen3"),
    ("qwen3_8_disable_thinking", "qwen3"),
    ("kimi_k25", "kimi_k2"),
    ("kimi_k25_disable_thinking", "kimi_k2"),
    ("kimi_k26", "kimi_k2"),
    ("kimi_k26_disable_thinking", "kimi_k2"),
    ("kimi_k26_preserve_thinking", "kimi_k2"),
    # Nemotron 3 / 3.5 use the <|im_start|>/<think>/<tool_call> strings Qwen3's tokenizer has as tokens.
    ("nemotron3", "qwen3"),
    ("nemotron3_low_thinking", "qwen3"),
    ("nemotron3_disable_thinking", "qwen3"),
    ("nemotron3_preserve_thinking", "qwen3"),
    ("nemotron3_ultra", "qwen3"),
    ("nemotron3_ultra_disable_thinking", "qwen3"),
    ("nemotron3_ultra_medium_thinking", "qwen3"),
    ("nemotron3_ultra_preserve_thinking", "qwen3"),
    # DeepSeek V4.1: V3.1's tokenizer (<｜User｜>, <｜Assistant｜>, <think>, end-of-sentence are tokens there).
    ("deepseekv4_1", "deepseek_v3_1"),
    ("deepseekv4_1_low_reasoning", "deepseek_v3_1"),
    ("deepseekv4_1_max_reasoning", "deepseek_v3_1"),
    ("deepseekv4_1_disable_thinking", "deepseek_v3_1"),
    ("deepseekv4_1_preserve_thinking", "deepseek_v3_1"),
    ("glm5_3_max_reasoning", "glm5_3_standin"),
    ("glm5_3_low_reasoning", "glm5_3_standin"),
    ("glm5_3_high_reasoning", "glm5_3_standin"),
]

MODES = [
    "last_assistant_message",
    "last_assistant_turn",
    "all_assistant_messages",
    "all_messages",
    "all_tokens",
    "all_user_and_system_messages",
    "customized",
]
SPLIT_MODES = ["last_assistant_turn", "all_assistant_messages"]

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a city",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
}
SEARCH_TOOL = {
    "name": "search",
    "description": "Search the web",
    "parameters": {
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "default": 5}},
        "required": ["query"],
    },
}


def _call(name: str, args: dict[str, Any], call_id: str | None) -> dict[str, Any]:
    return {"type": "function", "id": call_id, "function": {"name": name, "arguments": json.dumps(args)}}


def _think(thinking: str, text: str) -> list[dict[str, str]]:
    return [{"type": "thinking", "thinking": thinking}, {"type": "text", "text": text}]


# Each conversation: id, messages, and optionally tools + system_prompt (rendered through the
# renderer's own create_conversation_prefix_with_tools and prepended).
CONVERSATIONS: list[dict[str, Any]] = [
    {"id": "basic", "messages": [{"role": "user", "content": "Hello!"}, {"role": "assistant", "content": "Hi there."}]},
    {
        "id": "system_multi_turn",
        "messages": [
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "4"},
            {"role": "user", "content": "And 3+3?"},
            {"role": "assistant", "content": "6"},
        ],
    },
    {
        "id": "thinking_last",
        "messages": [
            {"role": "user", "content": "Is 17 prime?"},
            {"role": "assistant", "content": _think("17 has no divisors other than 1 and 17.", "Yes, 17 is prime.")},
        ],
    },
    {
        "id": "thinking_multi_turn",
        "messages": [
            {"role": "system", "content": "Think step by step."},
            {"role": "user", "content": "2*3?"},
            {"role": "assistant", "content": _think("Multiply.", "6")},
            {"role": "user", "content": "Now 6*7?"},
            {"role": "assistant", "content": _think("6*7 = 42.\nDouble-check: 7*6 = 42.", "42")},
        ],
    },
    {
        "id": "thinking_inline_string",
        "messages": [
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "<think>\nIt is Paris.\n</think>\n\nParis."},
        ],
    },
    {
        "id": "tools_single_call",
        "tools": [WEATHER_TOOL],
        "system_prompt": "You are a weather bot.",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": _think("I should call the tool.", "Let me check."),
                "tool_calls": [_call("get_weather", {"city": "Paris"}, "functions.get_weather:0")],
            },
            {
                "role": "tool",
                "content": '{"temperature": 21, "sky": "sunny"}',
                "tool_call_id": "functions.get_weather:0",
                "name": "get_weather",
            },
            {"role": "assistant", "content": "It is sunny and 21 degrees in Paris."},
        ],
    },
    {
        "id": "tools_parallel_no_text",
        "tools": [WEATHER_TOOL, SEARCH_TOOL],
        "system_prompt": "",
        "messages": [
            {"role": "user", "content": "Weather in Oslo and Lima, and search for news."},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    _call("get_weather", {"city": "Oslo", "unit": "celsius"}, "functions.get_weather:0"),
                    _call("search", {"query": "news", "limit": 3}, "functions.search:1"),
                ],
            },
            {"role": "tool", "content": "-3C snow", "tool_call_id": "functions.get_weather:0", "name": "get_weather"},
            {"role": "tool", "content": "Nothing new.", "tool_call_id": "functions.search:1", "name": "search"},
            {"role": "assistant", "content": "Oslo: -3C with snow. No news."},
        ],
    },
    {
        "id": "tools_then_new_user_turn",
        "tools": [WEATHER_TOOL],
        "system_prompt": "Be helpful.",
        "messages": [
            {"role": "user", "content": "Weather in Rome?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [_call("get_weather", {"city": "Rome"}, "functions.get_weather:0")],
            },
            {"role": "tool", "content": "30C", "tool_call_id": "functions.get_weather:0", "name": "get_weather"},
            {"role": "assistant", "content": _think("Report it.", "It is 30C in Rome.")},
            {"role": "user", "content": "Thanks! Is that hot?"},
            {"role": "assistant", "content": _think("30C is warm.", "Yes, quite hot.")},
        ],
    },
    {
        "id": "unicode",
        "messages": [
            {"role": "system", "content": "Réponds en français. 用中文也可以。"},
            {"role": "user", "content": "Ça va? 🙂 日本語は? مرحبا Ωμέγα ﬁ e\u0301"},
            {"role": "assistant", "content": "Très bien 👍🏽! 很好。 ½ × ∞ ≠ 0 — «ok» \u200b"},
        ],
    },
    {
        "id": "whitespace",
        "messages": [
            {"role": "user", "content": "  leading and trailing  \n\n"},
            {"role": "assistant", "content": "\n\nindented:\n\tcode()\n    more  \n"},
            {"role": "user", "content": " "},
            {"role": "assistant", "content": "line1\r\nline2\n\n\n"},
        ],
    },
    {
        "id": "empty_messages",
        "messages": [
            {"role": "system", "content": ""},
            {"role": "user", "content": ""},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "again"},
            {"role": "assistant", "content": ""},
        ],
    },
    {
        "id": "ends_with_user",
        "messages": [
            {"role": "system", "content": "SYS"},
            {"role": "user", "content": "U1"},
            {"role": "assistant", "content": "A1"},
            {"role": "user", "content": "U2"},
        ],
    },
    {
        "id": "no_user_message",
        "messages": [{"role": "system", "content": "Speak."}, {"role": "assistant", "content": "Hello world."}],
    },
    {
        "id": "special_token_literals",
        "messages": [
            {"role": "user", "content": "Print <|im_end|> and <think> and <|eot_id|> and <|end|> literally."},
            {"role": "assistant", "content": "Here: <|endoftext|> done."},
        ],
    },
    {
        "id": "consecutive_assistants",
        "messages": [
            {"role": "user", "content": "Count."},
            {"role": "assistant", "content": "One."},
            {"role": "assistant", "content": "Two."},
        ],
    },
    {
        "id": "customized",
        "messages": [
            {"role": "system", "content": "S", "trainable": False},
            {"role": "user", "content": "Q1", "trainable": True},
            {"role": "assistant", "content": "R1", "trainable": False},
            {"role": "user", "content": "Q2", "trainable": False},
            {"role": "assistant", "content": "R2", "trainable": True},
        ],
    },
    # Inputs the cookbook renders by dropping or defaulting something (tinkerlite's strict mode raises).
    {
        "id": "unknown_role",
        "messages": [
            {"role": "system", "content": "You host a guessing game."},
            {"role": "user", "content": "Start."},
            {"role": "player", "content": "I guess 5."},
            {"role": "assistant", "content": "Too low."},
        ],
    },
    {
        "id": "tool_calls_without_declarations",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [_call("get_weather", {"city": "Paris"}, "functions.get_weather:0")],
            },
            {"role": "tool", "content": "sunny", "tool_call_id": "functions.get_weather:0", "name": "get_weather"},
            {"role": "assistant", "content": "Sunny."},
        ],
    },
    {
        "id": "malformed_tool_arguments",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "type": "function",
                        "id": "functions.get_weather:0",
                        "function": {"name": "get_weather", "arguments": '{"city": Paris'},
                    }
                ],
            },
            {"role": "tool", "content": "error", "tool_call_id": "functions.get_weather:0", "name": "get_weather"},
            {"role": "assistant", "content": "The tool failed."},
        ],
    },
    {
        "id": "non_object_tool_arguments",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "type": "function",
                        "id": "functions.get_weather:0",
                        "function": {"name": "get_weather", "arguments": '["Paris"]'},
                    }
                ],
            },
            {"role": "tool", "content": "sunny", "tool_call_id": "functions.get_weather:0", "name": "get_weather"},
            {"role": "assistant", "content": "Sunny."},
        ],
    },
    {
        "id": "tool_result_without_name",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [_call("get_weather", {"city": "Paris"}, "functions.get_weather:0")],
            },
            {"role": "tool", "content": "sunny", "tool_call_id": "functions.get_weather:0"},
            {"role": "assistant", "content": "Sunny."},
        ],
    },
    {
        "id": "numbers_and_code",
        "messages": [
            {"role": "user", "content": "Sum 1234567 and 89, then show JSON."},
            {"role": "assistant", "content": 'Result: 1234656\n```json\n{"a": [1, 2.5, null], "b": "x"}\n```'},
        ],
    },
]


def _load_tokenizers(tokenizer_dir: Path | None) -> dict[str, Any]:
    from transformers import PreTrainedTokenizerFast

    paths: dict[str, Path] = {}
    if tokenizer_dir is not None:
        paths = {f: tokenizer_dir / f"{f}.json" for f in FAMILIES}
    else:
        sys.path.insert(0, str(ROOT))
        from tests.renderers.tokenizers_for_tests import family_dir

        paths = {f: family_dir(f) / "tokenizer.json" for f in FAMILIES}
    out: dict[str, Any] = {}
    for family, path in paths.items():
        if not path.exists():
            print(f"skipping {family}: {path} missing", file=sys.stderr)
            continue
        bos, eos = FAMILY_SPECIALS[family]
        tok = PreTrainedTokenizerFast(tokenizer_file=str(path), bos_token=bos, eos_token=eos)
        tok.name_or_path = family
        out[family] = tok
    return out


def _to_cookbook_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from tinker_cookbook.renderers import ToolCall

    out = []
    for m in messages:
        m = dict(m)
        if "tool_calls" in m:
            m["tool_calls"] = [
                ToolCall(
                    id=tc.get("id"),
                    function=ToolCall.FunctionBody(name=tc["function"]["name"], arguments=tc["function"]["arguments"]),
                )
                for tc in m["tool_calls"]
            ]
        out.append(m)
    return out


def _rle(weights: list[float]) -> list[list[float]]:
    runs: list[list[float]] = []
    for w in weights:
        w = float(w)
        if runs and runs[-1][0] == w:
            runs[-1][1] += 1
        else:
            runs.append([w, 1])
    return runs


def _err(e: BaseException) -> dict[str, str]:
    return {"error": type(e).__name__, "message": str(e)[:300]}


def _jsonable_message(message: dict[str, Any]) -> dict[str, Any]:
    from tinker_cookbook.renderers.base import message_to_jsonable

    out: dict[str, Any] = message_to_jsonable(message)
    return out


def _render_all(renderer: Any, conv: dict[str, Any]) -> dict[str, Any]:
    from tinker_cookbook.renderers import TrainOnWhat

    rec: dict[str, Any] = {"id": conv["id"]}
    messages = list(conv["messages"])
    if "tools" in conv:
        try:
            prefix = renderer.create_conversation_prefix_with_tools(conv["tools"], conv.get("system_prompt", ""))
            rec["tool_prefix"] = [_jsonable_message(m) for m in prefix]
            messages = [dict(m) for m in rec["tool_prefix"]] + messages
        except Exception as e:
            rec["tool_prefix"] = _err(e)
            return rec
    cb_messages = _to_cookbook_messages(messages)
    history = cb_messages[:-1] if cb_messages[-1]["role"] == "assistant" else cb_messages
    try:
        rec["generation"] = {"tokens": renderer.build_generation_prompt(history).to_ints()}
    except Exception as e:
        rec["generation"] = _err(e)
    try:
        rec["generation_prefill"] = {"tokens": renderer.build_generation_prompt(history, prefill="Sure").to_ints()}
    except Exception as e:
        rec["generation_prefill"] = _err(e)
    rec["supervised"] = {}
    for mode in MODES:
        try:
            mi, w = renderer.build_supervised_example(cb_messages, train_on_what=TrainOnWhat(mode))
            rec["supervised"][mode] = {"tokens": mi.to_ints(), "weights": _rle(w.tolist())}
        except Exception as e:
            rec["supervised"][mode] = _err(e)
    rec["examples"] = {}
    for mode in SPLIT_MODES:
        try:
            exs = renderer.build_supervised_examples(cb_messages, train_on_what=TrainOnWhat(mode))
            rec["examples"][mode] = [{"tokens": mi.to_ints(), "weights": _rle(w.tolist())} for mi, w in exs]
        except Exception as e:
            rec["examples"][mode] = _err(e)
    if cb_messages[-1]["role"] == "assistant":
        # Response tokens = what follows the generation prompt in the supervised example (when it does).
        try:
            full, _ = renderer.build_supervised_example(cb_messages)
            prompt = renderer.build_generation_prompt(cb_messages[:-1]).to_ints()
        except Exception:
            return rec  # rendering itself failed; the error is recorded above
        toks = full.to_ints()
        if toks[: len(prompt)] == prompt:
            response = toks[len(prompt) :]
            try:
                msg, term = renderer.parse_response(response)
                rec["parse"] = {"response": response, "message": _jsonable_message(msg), "termination": str(term)}
            except Exception as e:
                rec["parse"] = {"response": response, **_err(e)}
    return rec


HARMONY_CONVERSATIONS = ["basic", "system_multi_turn", "thinking_multi_turn", "unicode", "whitespace", "ends_with_user"]


def _harmony_records() -> list[dict[str, Any]] | None:
    """Generation prompts from OpenAI's own Harmony renderer (PyPI ``openai-harmony``), if installed.

    ``TIKTOKEN_ENCODINGS_BASE`` must point at a folder with ``o200k_base.tiktoken`` (the pinned test data).
    """
    try:
        import openai_harmony as h
    except ImportError:
        print("openai-harmony not installed: no Harmony goldens", file=sys.stderr)
        return None
    enc = h.load_harmony_encoding(h.HarmonyEncodingName.HARMONY_GPT_OSS)
    efforts = {"low": h.ReasoningEffort.LOW, "medium": h.ReasoningEffort.MEDIUM, "high": h.ReasoningEffort.HIGH}
    convs = {c["id"]: c for c in CONVERSATIONS}
    out = []
    for effort, level in efforts.items():
        for cid in HARMONY_CONVERSATIONS:
            history = convs[cid]["messages"]
            history = history[:-1] if history[-1]["role"] == "assistant" else history
            system = h.SystemContent.new().with_reasoning_effort(level).with_conversation_start_date(GPT_OSS_DATE)
            msgs = [h.Message.from_role_and_content(h.Role.SYSTEM, system)]
            for m in history:
                content = m["content"]
                if m["role"] == "system":
                    dev = h.DeveloperContent.new().with_instructions(content)
                    msgs.append(h.Message.from_role_and_content(h.Role.DEVELOPER, dev))
                elif m["role"] == "user":
                    msgs.append(h.Message.from_role_and_content(h.Role.USER, content))
                else:
                    parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
                    thinking = "".join(p["thinking"] for p in parts if p["type"] == "thinking")
                    text = "".join(p["text"] for p in parts if p["type"] == "text")
                    if thinking:
                        msgs.append(
                            h.Message.from_role_and_content(h.Role.ASSISTANT, thinking).with_channel("analysis")
                        )
                    msgs.append(h.Message.from_role_and_content(h.Role.ASSISTANT, text).with_channel("final"))
            tokens = enc.render_conversation_for_completion(h.Conversation.from_messages(msgs), h.Role.ASSISTANT)
            out.append({"id": cid, "renderer": f"gpt_oss_{effort}_reasoning", "generation": {"tokens": list(tokens)}})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizers", type=Path, default=None, help="folder with {family}.json tokenizer files")
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--only", nargs="*", default=None, help="renderer names to (re)generate (default: all)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    import tinker_cookbook
    from tinker_cookbook.renderers import get_renderer

    tokenizers = _load_tokenizers(args.tokenizers)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, family in RENDERERS:
        if family not in tokenizers or (args.only is not None and name not in args.only):
            continue
        renderer = get_renderer(name, tokenizers[family], model_name=family)
        if name.startswith("gpt_oss"):
            renderer.current_date = GPT_OSS_DATE
        doc = {
            "generator": "tests/golden/make_renderer_goldens.py",
            "cookbook_version": getattr(tinker_cookbook, "__version__", "0.6.1"),
            "renderer": name,
            "tokenizer_family": family,
            "gpt_oss_current_date": GPT_OSS_DATE,
            "conversations": CONVERSATIONS,
            "records": [_render_all(renderer, conv) for conv in CONVERSATIONS],
        }
        path = args.out / f"{name}@{family}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    harmony = _harmony_records() if args.only is None else None
    if harmony is not None:
        doc = {
            "generator": "tests/golden/make_renderer_goldens.py (openai-harmony)",
            "gpt_oss_current_date": GPT_OSS_DATE,
            "conversations": CONVERSATIONS,
            "records": harmony,
        }
        path = args.out / "harmony" / "openai_harmony@gpt_oss.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
