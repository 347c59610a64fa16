"""Differential fuzz: tinkerlite's tml_v0 against the cookbook's TmlV0Renderer on the real tml-renderers wheel.

Run in the throwaway venv of ``make_tml_v0_goldens.py`` (cookbook 0.6.1 + tml-renderers 0.2.1), with
``TINKERLITE_O200K_BASE`` pointing at o200k_base.tiktoken (the wheel ships it: tml_renderers/data)::

    python tests/golden/fuzz_tml_v0.py --n 2000 --seed 0

Random conversations (roles, parts, tool calls with random JSON arguments, tool declarations, unicode, special-
token text) and random token responses; every generation prompt, supervised example (four TrainOnWhat modes,
random effort) and parse must agree, errors included (same failing call). Exits 1 on the first mismatch.
"""

# mypy: disable-error-code="import-not-found,import-untyped"
from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

WORDS = [
    "hi",
    "Hello",
    " world",
    "café",
    "東京",
    "👍🏽",
    "\n",
    "  ",
    "<|end_message|>",
    "<|content_text|>",
    "1234567",
    "\t",
    "e\u0301",
    "",
    "don't",
    '{"a": 1}',
    "<think>",
    "Ω",
    "—",
    "x" * 30,
]
SPECIAL = [200000, 200001, 200002, 200003, 200004, 200006, 200008, 200010, 200022, 200049, 200057, 199999]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(0, 5)))


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randint(0, 7 if depth < 2 else 4)
    if kind == 0:
        return rng.randint(-(10**6), 10**6)
    if kind == 1:
        return rng.choice([0.1, 2.5, 1e20, 1e-7, -0.0, 1.0, 3.14159, 1e16, 1e15, 2.5e-5, 123456.789])
    if kind == 2:
        return _text(rng)
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return rng.randint(0, 10**25)
    if kind in (5, 6):
        return {_text(rng) or "k": _json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    return [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]


def _message(rng: random.Random, i: int) -> dict[str, Any]:
    role = rng.choice(["user", "assistant", "assistant", "system", "tool"])
    if rng.random() < 0.5:
        content: Any = _text(rng)
    else:
        content = [
            {"type": "thinking", "thinking": _text(rng)} if rng.random() < 0.4 else {"type": "text", "text": _text(rng)}
            for _ in range(rng.randint(0, 3))
        ]
    m: dict[str, Any] = {"role": role, "content": content}
    if role == "assistant" and rng.random() < 0.4:
        m["tool_calls"] = [
            {
                "type": "function",
                "id": rng.choice([None, f"c{i}"]),
                "function": {
                    "name": rng.choice(["f", "get_weather", "search"]),
                    "arguments": json.dumps({_text(rng) or "a": _json_value(rng) for _ in range(rng.randint(0, 3))}),
                },
            }
            for _ in range(rng.randint(1, 2))
        ]
    if role == "tool" and rng.random() < 0.7:
        m["name"] = rng.choice(["f", "search", "é"])
    if rng.random() < 0.3:
        m["trainable"] = rng.random() < 0.5
    return m


def _conversation(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None, str]:
    msgs = [_message(rng, i) for i in range(rng.randint(1, 7))]
    tools = None
    if rng.random() < 0.3:
        tools = [
            {
                "name": rng.choice(["f", "search"]),
                "description": _text(rng),
                "parameters": {
                    "type": "object",
                    "properties": {_text(rng) or "p": {"type": "string", "default": _json_value(rng)}},
                },
            }
            for _ in range(rng.randint(1, 2))
        ]
    return msgs, tools, rng.choice(["", "Be brief.", "Système ☕"])


def _run(fn: Any) -> Any:
    try:
        return fn()
    except (ValueError, NotImplementedError, TypeError, KeyError) as e:
        return ("error", type(e).__name__ if not isinstance(e, ValueError) else "ValueError")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    from tinker_cookbook.renderers import TrainOnWhat as CTrain
    from tinker_cookbook.renderers import get_renderer as cget
    from tinker_cookbook.tokenizer_utils import get_tokenizer as ctok

    from tests.golden.make_renderer_goldens import _to_cookbook_messages
    from tinkerlite.renderers import TrainOnWhat, get_renderer, message_to_jsonable
    from tinkerlite.tokenizer_utils import get_tokenizer

    cb = cget("tml_v0", ctok("thinkingmachines/Inkling"))
    tl = get_renderer("tml_v0", get_tokenizer("thinkingmachines/Inkling"))
    from tinker_cookbook.renderers.base import message_to_jsonable as cjson

    rng = random.Random(args.seed)
    modes = ["last_assistant_message", "last_assistant_turn", "all_assistant_messages", "customized"]
    checked = 0
    for n in range(args.n):
        msgs, tools, sp = _conversation(rng)
        if tools:
            prefix = [dict(m) for m in (cjson(m) for m in cb.create_conversation_prefix_with_tools(tools, sp))]
            assert prefix == [message_to_jsonable(m) for m in tl.create_conversation_prefix_with_tools(tools, sp)]
            msgs = prefix + msgs
        effort = rng.choice([0.9, 0.0, rng.random()])
        cmsgs = _to_cookbook_messages(msgs)
        pairs = [
            (
                "generation",
                lambda cm=cmsgs, e=effort: cb.build_generation_prompt(cm, effort=e).to_ints(),
                lambda ms=msgs, e=effort: tl.build_generation_prompt(ms, effort=e).to_ints(),
            ),
        ]
        for mode in modes:
            pairs.append(
                (
                    mode,
                    lambda mode=mode, cm=cmsgs, e=effort: [
                        (mi.to_ints(), w.tolist()) for mi, w in cb.build_supervised_examples(cm, CTrain(mode), effort=e)
                    ],
                    lambda mode=mode, ms=msgs, e=effort: [
                        (mi.to_ints(), w.tolist())
                        for mi, w in tl.build_supervised_examples(ms, TrainOnWhat(mode), effort=e)
                    ],
                )
            )
        for key, a, b in pairs:
            ra, rb = _run(a), _run(b)
            if ra != rb:
                shown = json.dumps(msgs, ensure_ascii=False)
                print(f"MISMATCH #{n} {key}\n  messages {shown}\n  cookbook {ra}\n  tl {rb}")
                raise SystemExit(1)
            checked += 1
        ex = _run(lambda cm=cmsgs, e=effort: cb.build_supervised_examples(cm, CTrain.ALL_ASSISTANT_MESSAGES, effort=e))
        if isinstance(ex, list) and ex:
            toks = ex[0][0].to_ints()
            for _ in range(3):
                i, j = sorted(rng.sample(range(len(toks) + 1), 2))
                resp = toks[i:j]
                if rng.random() < 0.3 and resp:
                    resp[rng.randrange(len(resp))] = rng.choice(SPECIAL)
                ma, ta = cb.parse_response(resp)
                mb, tb = tl.parse_response(resp)
                if (cjson(ma), str(ta)) != (message_to_jsonable(mb), str(tb)):
                    print(
                        f"PARSE MISMATCH #{n} {resp}\n  cookbook {cjson(ma)} {ta}\n  tl {message_to_jsonable(mb)} {tb}"
                    )
                    raise SystemExit(1)
                checked += 1
    print(f"ok: {args.n} conversations, {checked} comparisons agree")


if __name__ == "__main__":
    main()
