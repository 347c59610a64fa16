"""Writes the tiny bundled datasets of ``tinkerlite.recipes`` (all text written for tinkerlite).

- ``tiny_gsm8k.jsonl``: GSM8K-shaped rows (``question``, ``answer`` ending in ``#### N``), one-digit sums;
- ``tiny_math.jsonl``: MATH-shaped rows (``problem``, ``solution`` with ``\\boxed{}``, ``answer``);
- ``tiny_hhh.jsonl``: hh-rlhf-shaped rows (``chosen``/``rejected`` transcripts), from ``tiny_chat.jsonl``;
- ``tiny_lang.txt``: short sentences in several languages (prompt distillation's input);
- ``tiny_lang.jsonl``: those sentences labelled (``{"messages": [...]}``), prompt distillation's training file;
- ``tiny_words.txt``: twenty-questions secret words;
- ``tiny_corpus.txt``: plain English-like prose built from a small vocabulary (the counting task's pages).

Deterministic: ``python examples/data/make_recipe_data.py`` regenerates the same files.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

SENTENCES = {
    "en": ["The cat sleeps on the warm chair.", "I would like a cup of tea, please.", "We walked to the park.",
           "The train leaves at nine.", "My brother plays the guitar.", "It is raining again today."],
    "fr": ["Le chat dort sur la chaise.", "Je voudrais une tasse de thé.", "Nous avons marché au parc.",
           "Le train part à neuf heures.", "Mon frère joue de la guitare.", "Il pleut encore aujourd'hui."],
    "es": ["El gato duerme en la silla.", "Quisiera una taza de té.", "Caminamos hasta el parque.",
           "El tren sale a las nueve.", "Mi hermano toca la guitarra.", "Hoy llueve otra vez."],
    "de": ["Die Katze schläft auf dem Stuhl.", "Ich hätte gern eine Tasse Tee.", "Wir sind zum Park gegangen.",
           "Der Zug fährt um neun ab.", "Mein Bruder spielt Gitarre.", "Es regnet heute schon wieder."],
    "ru": ["Кошка спит на стуле.", "Я хотел бы чашку чая.", "Мы пошли в парк.", "Поезд уходит в девять."],
    "el": ["Η γάτα κοιμάται στην καρέκλα.", "Θα ήθελα ένα φλιτζάνι τσάι.", "Περπατήσαμε στο πάρκο."],
    "zh": ["猫在椅子上睡觉。", "我想要一杯茶。", "我们走到了公园。", "火车九点出发。"],
    "vi": ["Con mèo ngủ trên ghế.", "Tôi muốn một tách trà.", "Chúng tôi đi bộ đến công viên."],
    "tr": ["Kedi sandalyede uyuyor.", "Bir fincan çay istiyorum.", "Parka yürüdük."],
}

WORDS = ["apple", "bicycle", "cloud", "dolphin", "elephant", "guitar", "hammer", "island", "kettle", "lemon",
         "mountain", "notebook", "octopus", "piano", "river", "scissors", "teapot", "umbrella", "violin", "window"]


def write_jsonl(name: str, rows: list[dict[str, object]]) -> None:
    with open(HERE / name, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    rng = random.Random(0)
    gsm = []
    for _ in range(128):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        gsm.append({"question": f"What is {a} plus {b}?", "answer": f"{a} plus {b} is {a + b}.\n#### {a + b}"})
    write_jsonl("tiny_gsm8k.jsonl", gsm)
    math_rows = []
    for _ in range(64):
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        solution = f"${a} \\times {b} = \\boxed{{{a * b}}}$."
        math_rows.append({"problem": f"Compute ${a} \\times {b}$.", "solution": solution, "answer": str(a * b)})
    write_jsonl("tiny_math.jsonl", math_rows)
    hhh = []
    for line in (HERE / "tiny_chat.jsonl").read_text().splitlines():
        msgs = [m for m in json.loads(line)["messages"] if m["role"] != "system"]
        if len(msgs) == 2:
            q, a = msgs[0]["content"], msgs[1]["content"]
            hhh.append({"chosen": f"\n\nHuman: {q}\n\nAssistant: {a}",
                        "rejected": f"\n\nHuman: {q}\n\nAssistant: I will not answer that."})
    write_jsonl("tiny_hhh.jsonl", hhh)
    lines = [(s, lang) for lang, ss in SENTENCES.items() for s in ss]
    (HERE / "tiny_lang.txt").write_text("".join(s + "\n" for s, _ in lines), encoding="utf-8")
    write_jsonl("tiny_lang.jsonl", [{"messages": [{"role": "user", "content": s},
                                                  {"role": "assistant", "content": lang}]} for s, lang in lines])
    (HERE / "tiny_words.txt").write_text("".join(w + "\n" for w in WORDS), encoding="utf-8")
    subjects = ["The river", "A small town", "The old bridge", "Her brother", "The museum", "Our team", "The storm"]
    verbs = ["grew", "stood", "waited", "changed", "opened", "moved", "rested"]
    links = ["after", "before", "during", "until", "while", "when", "although", "however", "then", "through"]
    tails = ["the long winter", "many years", "the war", "their journey", "the harvest", "several weeks", "noon"]
    lines = []
    for _ in range(400):
        sentence = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(links)} {rng.choice(tails)}."
        lines.append(" ".join([sentence] + [f"It was known for {rng.choice(tails)} {rng.choice(links)} "
                                            f"{rng.choice(tails)}." for _ in range(rng.randint(0, 2))]))
    (HERE / "tiny_corpus.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
