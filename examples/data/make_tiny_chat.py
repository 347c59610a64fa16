"""Writes tiny_chat.jsonl: a small chat dataset written for tinkerlite (no third-party text).

Short, regular conversations (arithmetic, word reversal, opposites, colors, counting) that a
byte-level model with a few hundred thousand parameters can visibly learn in a minute on a laptop.
Deterministic: ``python examples/data/make_tiny_chat.py`` regenerates the same file.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = ["cat", "dog", "sun", "tree", "book", "lamp", "fish", "bird", "rain", "star", "milk", "frog"]
OPPOSITES = [("hot", "cold"), ("up", "down"), ("big", "small"), ("fast", "slow"), ("day", "night"),
             ("open", "closed"), ("happy", "sad"), ("light", "dark"), ("early", "late"), ("wet", "dry")]
COLORS = [("the sky", "blue"), ("grass", "green"), ("snow", "white"), ("a banana", "yellow"),
          ("coal", "black"), ("a tomato", "red"), ("an orange", "orange"), ("a plum", "purple")]
SYSTEM = "You are a brief, helpful assistant."


def conversations(rng: random.Random) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for _ in range(90):
        a, b = rng.randint(0, 20), rng.randint(0, 20)
        rows.append({"messages": [{"role": "user", "content": f"What is {a} plus {b}?"},
                                  {"role": "assistant", "content": f"{a} plus {b} is {a + b}."}]})
    for w in WORDS:
        for _ in range(4):
            rows.append({"messages": [{"role": "user", "content": f"Reverse the word {w}."},
                                      {"role": "assistant", "content": f"{w} reversed is {w[::-1]}."}]})
    for x, y in OPPOSITES:
        for q, a in ((x, y), (y, x)):
            for _ in range(3):
                rows.append({"messages": [{"role": "system", "content": SYSTEM},
                                          {"role": "user", "content": f"What is the opposite of {q}?"},
                                          {"role": "assistant", "content": f"The opposite of {q} is {a}."}]})
    for thing, color in COLORS:
        for _ in range(5):
            rows.append({"messages": [{"role": "user", "content": f"What color is {thing}?"},
                                      {"role": "assistant", "content": f"{thing.capitalize()} is {color}."}]})
    for _ in range(40):
        n = rng.randint(2, 6)
        rows.append({"messages": [{"role": "user", "content": f"Count to {n}."},
                                  {"role": "assistant", "content": ", ".join(str(i) for i in range(1, n + 1)) + "."},
                                  {"role": "user", "content": "Thanks!"},
                                  {"role": "assistant", "content": "You're welcome."}]})
    rng.shuffle(rows)
    return rows


def main() -> None:
    out = Path(__file__).with_name("tiny_chat.jsonl")
    rows = conversations(random.Random(1234))
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} conversations to {out}")


if __name__ == "__main__":
    main()
