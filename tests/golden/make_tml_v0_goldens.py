"""Produce ``tml_v0`` goldens with the cookbook 0.6.1's own ``TmlV0Renderer`` on the real ``tml-renderers``.

The cookbook pins ``tml-renderers>=0.4.1``, which is not on PyPI; 0.2.1 (the newest release there) has the
same ``v0.Renderer`` API the cookbook calls (``render_for_completion_with_effort``, ``render_for_sft``,
``stop``, the parser, ``chat.ThinkingEffort``), so the cookbook's renderer runs unchanged on it. Run in a
throwaway venv, never in tinkerlite's own environment -- e.g. one layered on the cookbook venv that
``make_renderer_goldens.py`` describes (torch, tinker 0.38, transformers, cookbook 0.6.1 --no-deps)::

    python -m venv ~/.cache/tinkerlite/official-venvs/tml021
    ~/.cache/tinkerlite/official-venvs/tml021/bin/pip install --no-deps tml-renderers==0.2.1
    echo /path/to/cookbook-venv/lib/python3.11/site-packages \
        > ~/.cache/tinkerlite/official-venvs/tml021/lib/python3.11/site-packages/cookbook_site.pth
    ~/.cache/tinkerlite/official-venvs/tml021/bin/python tests/golden/make_tml_v0_goldens.py

Output: ``tests/golden/tml_v0_goldens.json``: the conversations of ``make_renderer_goldens.py`` plus
TML-specific ones, each rendered as that script's ``_render_all`` records it (generation prompt, prefill,
supervised example per TrainOnWhat, split examples, tool prefix, parse of the last assistant turn, or the
exception), plus effort variants, hand-made parse cases, the stop sequence and tokenizer checks
(``encode_ordinary`` ids of a text corpus, special-token names) from ``O200kBaseChatTokenizer``.
"""

# mypy: disable-error-code="import-not-found,import-untyped"
from __future__ import annotations

import json
import logging
import math
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "tml_v0_goldens.json"

sys.path.insert(0, str(ROOT))
from tests.golden.make_renderer_goldens import (  # noqa: E402
    CONVERSATIONS,
    SEARCH_TOOL,
    WEATHER_TOOL,
    _call,
    _err,
    _jsonable_message,
    _render_all,
    _rle,
    _think,
)

EXTRA_CONVERSATIONS: list[dict[str, Any]] = [
    {
        "id": "tml_leading_systems",
        "messages": [
            {"role": "system", "content": "First system."},
            {"role": "system", "content": "Second system."},
            {"role": "user", "content": "Hi."},
            {"role": "system", "content": "A mid-conversation system note."},
            {"role": "assistant", "content": "Hello."},
        ],
    },
    {
        "id": "tml_tools_no_system",
        "tools": [SEARCH_TOOL],
        "system_prompt": "",
        "messages": [
            {"role": "user", "content": "Find café prices, 5 results."},
            {
                "role": "assistant",
                "content": _think("Use search.", ""),
                "tool_calls": [
                    _call("search", {"query": "café prix ☕", "limit": 5}, None),
                ],
            },
            {"role": "tool", "content": "[]", "tool_call_id": None, "name": "search"},
            {"role": "assistant", "content": "Nothing found."},
        ],
    },
    {
        "id": "tml_nested_tool_args",
        "tools": [WEATHER_TOOL],
        "system_prompt": "Tools.",
        "messages": [
            {"role": "user", "content": "Go."},
            {
                "role": "assistant",
                "content": "Calling.",
                "tool_calls": [
                    _call(
                        "get_weather",
                        {"city": "São Paulo", "opts": {"days": [1, 2.5, None], "ok": True}, "note": 'a"b\\c\n'},
                        "call_1",
                    )
                ],
            },
            {"role": "tool", "content": '{"t": 20}', "tool_call_id": "call_1", "name": "get_weather"},
            {"role": "assistant", "content": "20."},
        ],
    },
    {
        "id": "tml_thinking_only",
        "messages": [
            {"role": "user", "content": "Think only."},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "Hmm, just thoughts."}]},
        ],
    },
    {
        "id": "tml_multi_parts",
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "Part one. "}, {"type": "text", "text": "Part two."}],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Before."},
                    {"type": "thinking", "thinking": "Middle thought."},
                    {"type": "text", "text": "After."},
                ],
            },
        ],
    },
    {
        "id": "tml_history_thinking",
        "messages": [
            {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": _think("T1", "A1")},
            {"role": "user", "content": "Q2"},
            {"role": "assistant", "content": _think("T2", "A2")},
            {"role": "assistant", "content": "A2 again."},
        ],
    },
    {
        "id": "tml_special_literals",
        "messages": [
            {"role": "user", "content": "Say <|end_message|> and <|message_model|> and <|content_text|>."},
            {"role": "assistant", "content": "<|content_model_end_sampling|> <|endoftext|> ok"},
        ],
    },
    {
        "id": "tml_empty_content_list",
        "messages": [{"role": "user", "content": []}, {"role": "assistant", "content": "Empty."}],
    },
    {
        "id": "tml_tool_first",
        "messages": [
            {"role": "tool", "content": "orphan result", "name": "lookup"},
            {"role": "user", "content": "Use it."},
            {"role": "assistant", "content": "Done."},
        ],
    },
]

# Ties and near-ties of the hundredths rounding (0.545 shows 0.55, 0.575 shows 0.57: float arithmetic).
EFFORTS: list[float] = [
    0.0,
    0.0005,
    0.0025,
    0.0045,
    0.0055,
    0.0145,
    0.015,
    0.025,
    0.0345,
    0.05,
    0.105,
    0.1234,
    0.125,
    0.1251,
    0.2145,
    0.25,
    0.5,
    0.545,
    0.5452081159439722,
    0.575,
    0.6,
    0.7,
    0.8845,
    0.9,
    0.985,
    0.99,
    0.995,
    0.999,
    0.9994,
    0.9996,
    1.0,
    -0.1,
    math.nan,
    math.inf,
]
EFFORT_CONVERSATIONS = ["basic", "system_multi_turn", "tml_leading_systems", "tools_single_call"]

TOKENIZER_TEXTS = [
    "Hello world",
    "Hello Inkling! The quick brown fox jumps over the lazy dog. 東京",
    " leading space, trailing  ",
    "naïve café — ünïcödé\u0301 e\u0301",
    "中文混合English和数字123456",
    "emoji 😀👍🏽 family 👨‍👩‍👧",
    "def f(x):\n\treturn x ** 2  # code\r\n",
    "don't I'LL we've they'RE",
    "<|end_message|><|message_user|><|endoftext|>",
    "Thinking effort level: 0.9",
    '{"name":"get_weather","args":{"city":"SF"}}',
    "\n\n\n   \t  \n",
    "",
]

# Hand-made responses for parse_response: name -> token list (built from ids and encoded text below).
E, MM, CT, CTH, END, TJ, TT, TE, MU = 200006, 200001, 200004, 200008, 200010, 200049, 200057, 200022, 200000
MS, MT, CX, EOT = 200002, 200003, 200024, 199999


def _parse_cases(enc: Any) -> dict[str, list[int]]:
    def t(s: str) -> list[int]:
        return list(enc(s))

    call = t('{"name":"get_weather","args":{"city":"Paris"}}')
    return {
        "empty": [],
        "end_only": [E],
        "text_end": [MM, CT, *t("Hi there."), END, E],
        "text_truncated_no_end_message": [MM, CT, *t("Hi the")],
        "text_truncated_no_end": [MM, CT, *t("Hi there."), END],
        "thinking_text_end": [MM, CTH, *t("Let me think."), END, MM, CT, *t("Answer."), END, E],
        "thinking_only_end": [MM, CTH, *t("Only thinking."), END, E],
        "tool_call_end": [MM, *t("get_weather"), TJ, *call, END, E],
        "text_then_tool_call": [MM, CT, *t("Checking."), END, MM, *t("get_weather"), TJ, *call, END, E],
        "two_tool_calls": [
            MM,
            *t("get_weather"),
            TJ,
            *call,
            END,
            MM,
            *t("search"),
            TJ,
            *t('{"name":"search","args":{"query":"x","limit":3}}'),
            END,
            E,
        ],
        "tool_call_bad_json": [MM, *t("get_weather"), TJ, *t('{"name":"get_weather","args":{"city":'), END, E],
        "tool_call_no_args": [MM, *t("get_weather"), TJ, *t('{"name":"get_weather"}'), END, E],
        "tool_call_text": [MM, *t("get_weather"), TT, *t("city=Paris"), END, E],
        "content_without_header": [CT, *t("Hi."), END, E],
        "user_message_in_response": [MU, CT, *t("I am the user."), END, E],
        "plain_text_no_specials": t("Just text with no structure."),
        "tool_error_content": [MM, TE, *t("oops"), END, E],
        "double_end": [MM, CT, *t("Hi."), END, E, E],
        "text_after_end": [MM, CT, *t("Hi."), END, E, *t("extra")],
        "unicode_text": [MM, CT, *t("Très bien 👍🏽! 很好。"), END, E],
        "empty_text": [MM, CT, END, E],
        "two_texts": [MM, CT, *t("a"), END, MM, CT, *t("b"), END, E],
        "end_inside_content": [MM, CT, *t("a"), E],
        "header_inside_content": [MM, CT, *t("a"), MM, CT, *t("b"), END, E],
        "named_model": [MM, *t("name"), CT, *t("x"), END, E],
        "tool_message": [MT, *t("tool"), CT, *t("x"), END, E],
        "system_message": [MS, CT, *t("x"), END, E],
        "xml_content": [MM, CX, *t("x"), END, E],
        "end_message_then_end": [END, E],
        "header_without_content": [MM, END, E],
        "tool_args_list": [MM, *t("f"), TJ, *t('{"name":"f","args":[1]}'), END, E],
        "tool_name_mismatch": [MM, *t("a"), TJ, *t('{"name":"b","args":{}}'), END, E],
        "tool_no_header_name": [MM, TJ, *t('{"name":"f","args":{}}'), END, E],
        "tool_extra_key": [MM, *t("f"), TJ, *t('{"name":"f","args":{},"x":1}'), END, E],
        "tool_nested_unsorted": [
            MM,
            *t("f"),
            TJ,
            *t('{"name":"f","args":{"b":1,"a":{"z":1,"y":2.50,"w":1e5}}}'),
            END,
            E,
        ],
        "tool_json_spaces": [MM, *t("f"), TJ, *t(' { "name" : "f" , "args" : { "q" : "x" } } '), END, E],
        "tool_args_first": [MM, *t("f"), TJ, *t('{"args":{"q":1},"name":"f"}'), END, E],
        "tool_bigint": [MM, TJ, *t('{"name":"f","args":{"a":12345678901234567890123,"b":1.0}}'), END, E],
        "tool_out_of_range": [MM, TJ, *t('{"name":"f","args":{"d":1E400}}'), END, E],
        "tool_no_name_key": [MM, TJ, *t('{"args":{}}'), END, E],
        "tool_name_not_str": [MM, TJ, *t('{"name":1,"args":{}}'), END, E],
        "tool_not_object": [MM, TJ, *t("[1]"), END, E],
        "tool_trailing_text": [MM, *t("f"), TJ, *t('{"name":"f","args":{}} x'), END, E],
        "tool_non_ascii_args": [MM, TJ, *t('{"name":"f","args":{"q":"café ☕"}}'), END, E],
        "tool_then_text": [MM, TJ, *t('{"name":"f","args":{}}'), END, MM, CT, *t("done"), END, E],
        "tool_index_across_turns": [
            MM,
            TJ,
            *t('{"name":"f","args":{}}'),
            END,
            E,
            MT,
            *t("f"),
            CT,
            *t("r"),
            END,
            MM,
            TJ,
            *t('{"name":"g","args":{}}'),
            END,
            E,
        ],
        "endoftext_then_more": [MM, CT, *t("a"), END, EOT, MM, CT, *t("b"), END, E],
        "endoftext_in_content": [MM, CT, *t("a"), EOT, *t("b"), END, E],
        "two_tool_results": [MT, *t("a"), CT, *t("x"), END, MT, *t("a"), CT, *t("y"), END, E],
        "truncated_in_header": [MM, CT, *t("a"), END, MM],
        "truncated_in_name": [MM, CT, *t("a"), END, MM, *t("nm")],
        "truncated_after_message": [MM, CT, *t("a"), END, MM, CT, *t("b")],
        "truncated_after_end": [MM, CT, *t("a"), END, E, MM, CT, *t("b")],
        "only_header": [MM],
        "header_then_content_token": [MM, CT],
        "end_sampling_in_header": [MM, E],
        "unused_in_header": [MM, 200011, CT, *t("x"), END, E],
        "header_after_header": [MM, MU, CT, *t("x"), END, E],
        "audio_content": [MM, 200020, END, E],
        "begin_of_text_first": [200028, MM, CT, *t("a"), END, E],
        "plain_text_then_header": [*t("plain"), MM, CT, *t("x"), END, E],
        "plain_text_then_end": [*t("plain"), E],
        "tool_error_then_text": [MM, TE, *t("bad"), END, MM, CT, *t("ok"), END, E],
        "user_then_model": [MU, CT, *t("u"), END, MM, CT, *t("m"), END, E],
        "thinking_empty": [MM, CTH, END, E],
        "end_sampling_in_body_after_message": [MM, CT, *t("a"), END, MM, CT, *t("b"), E],
        "end_sampling_in_body_then_more": [MM, CT, *t("a"), END, MM, CT, *t("b"), E, MM, CT, *t("c"), END, E],
        "end_sampling_in_header_after_message": [MM, CT, *t("a"), END, MM, E],
        "end_message_in_header_after_message": [MM, CT, *t("a"), END, MM, END, E],
        "unused_kind_after_message": [MM, CT, *t("a"), END, MM, 200011, CT, *t("x"), END, E],
        "bad_json_after_message": [MM, CT, *t("a"), END, MM, TJ, *t("{bad"), END, E],
        "body_cut_after_end": [MM, CT, *t("a"), END, E, MM, CT, *t("b"), E],
        "xml_after_message": [MM, CT, *t("a"), END, MM, CX, *t("b"), END, E],
        "end_sampling_in_first_body_then_more": [MM, CT, *t("a"), E, MM, CT, *t("c"), END, E],
        "header_end_after_end": [MM, CT, *t("a"), END, E, MM, E],
        "header_cut_after_end": [MM, CT, *t("a"), END, E, MM],
        "partial_utf8_text": [MM, CT, 121, END, E],
        "partial_utf8_name": [MT, 121, CT, *t("x"), END, E],
        "partial_utf8_json": [MM, TJ, *t('{"name":"f","args":{"a":"'), 121, *t('"}}'), END, E],
        "partial_utf8_after_message": [MM, CT, *t("a"), END, MM, CT, 121, END, E],
        "cut_body_with_bad_utf8": [MM, CT, *t("a"), END, MM, CT, *t("b"), 200003, 121],
        "cut_body_with_incomplete_utf8": [MM, CT, *t("a"), END, MM, CT, *t("b"), 52622],
        "utf8_split_by_special": [MM, CT, 52622, 200003, 121, END, E],
        "end_sampling_header_then_more": [MM, CT, *t("a"), END, MM, E, MM, CT, *t("c"), END, E],
    }


def main() -> None:
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    import tinker_cookbook
    import tml_renderers
    from tinker_cookbook.renderers import get_renderer
    from tinker_cookbook.tokenizer_utils import get_tokenizer

    version = getattr(tml_renderers, "__version__", None)
    if version is None:
        from importlib.metadata import version as dist_version

        version = dist_version("tml-renderers")
    tokenizer = get_tokenizer("thinkingmachines/Inkling")
    tml_tok = tokenizer.tml_tokenizer
    renderer = get_renderer("tml_v0", tokenizer)
    conversations = [*CONVERSATIONS, *EXTRA_CONVERSATIONS]
    records = [_render_all(renderer, conv) for conv in conversations]

    by_id = {c["id"]: c for c in conversations}
    efforts: list[dict[str, Any]] = []
    for cid in EFFORT_CONVERSATIONS:
        conv = by_id[cid]
        messages = list(conv["messages"])
        if "tools" in conv:
            prefix = renderer.create_conversation_prefix_with_tools(conv["tools"], conv.get("system_prompt", ""))
            messages = [_jsonable_message(m) for m in prefix] + messages
        from tests.golden.make_renderer_goldens import _to_cookbook_messages

        cb = _to_cookbook_messages(messages)
        for effort in EFFORTS:
            rec: dict[str, Any] = {"id": cid, "effort": effort if math.isfinite(effort) else str(effort)}
            try:
                rec["generation"] = {"tokens": renderer.build_generation_prompt(cb[:-1], effort=effort).to_ints()}
            except Exception as e:
                rec["generation"] = _err(e)
            try:
                mi, w = renderer.build_supervised_example(cb, effort=effort)
                rec["supervised"] = {"tokens": mi.to_ints(), "weights": _rle(w.tolist())}
            except Exception as e:
                rec["supervised"] = _err(e)
            try:
                exs = renderer.build_supervised_examples(cb, effort=effort)
                rec["examples"] = [{"tokens": mi.to_ints(), "weights": _rle(w.tolist())} for mi, w in exs]
            except Exception as e:
                rec["examples"] = _err(e)
            efforts.append(rec)

    parses: list[dict[str, Any]] = []
    for name, response in _parse_cases(tml_tok.encode_ordinary).items():
        try:
            msg, term = renderer.parse_response(response)
            parses.append(
                {"id": name, "response": response, "message": _jsonable_message(msg), "termination": str(term)}
            )
        except Exception as e:
            parses.append({"id": name, "response": response, **_err(e)})

    specials = {}
    for tid in range(199990, 200100):
        name = tml_tok.decode_special(tid)
        if name is not None:
            specials[str(tid)] = name
    doc = {
        "generator": "tests/golden/make_tml_v0_goldens.py",
        "cookbook_version": getattr(tinker_cookbook, "__version__", "0.6.1"),
        "tml_renderers_version": version,
        "renderer": "tml_v0",
        "conversations": conversations,
        "records": records,
        "efforts": efforts,
        "parses": parses,
        "stop": renderer.get_stop_sequences(),
        "has_extension_property": renderer.has_extension_property,
        "tokenizer": {
            "bos_token": tokenizer.bos_token,
            "eos_token": tokenizer.eos_token,
            "eos_token_id": tokenizer.eos_token_id,
            "specials": specials,
            "encode": [{"text": s, "ids": list(tml_tok.encode_ordinary(s))} for s in TOKENIZER_TEXTS],
            "decode_specials": tml_tok.decode(sorted(int(k) for k in specials)),
        },
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(
        f"wrote {OUT.relative_to(ROOT)}: {len(records)} conversations, {len(efforts)} effort records, "
        f"{len(parses)} parse cases"
    )


if __name__ == "__main__":
    main()
