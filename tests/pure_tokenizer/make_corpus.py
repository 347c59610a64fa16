"""Regenerate ``corpus.jsonl``: hand-written edge cases plus seeded random text (``python -m ...``).

The committed corpus is the test input; this script documents how it was made. The random-unicode part
draws only code points assigned in the running Python's Unicode database (see ``_unicode.py`` for why
newer assignments differ from ``tokenizers``), so regenerate with the Python the goldens were made on.
"""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path

SEED = 20261125
HERE = Path(__file__).resolve().parent

SPECIALS = [
    "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    "<|eom_id|>", "<|python_tag|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_250|>",
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>", "<tool_response>",
    "<think>", "</think>", "<|fim_prefix|>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>",
    "<｜Assistant｜>", "<｜tool▁calls▁begin｜>", "<|startoftext|>", "<|return|>", "<|constrain|>",
    "<|channel|>", "<|start|>", "<|end|>", "<|message|>", "<|call|>", "<|endofprompt|>",
    "<|reserved_200100|>", "[BOS]", "[EOS]", "<|im_user|>", "<|im_assistant|>", "<|im_system|>",
    "<|im_middle|>", "[EOT]", "<|tool_calls_section_begin|>", "<|tool_call_begin|>", "[UNK]", "[PAD]",
    "<|reserved_token_163700|>",
]

EDGE = [
    "", " ", "  ", "   ", "\n", "\n\n", "\n\n\n", "\t", "\t\t", "\r", "\r\n", "\r\n\r\n", "\n\r", " \n", "\n ",
    " \n \n ", "a\n", "\na", "a \n b", "a  b", "a   b", "a\t\tb", "a \t b", "x\r\ny\r\n", "line1\r\nline2\rline3\n",
    "\x1c", "\x1d\x1e\x1f", "a\x1cb", "a \x1f b", "\x0b\x0c", "a\x0bb", "\x85", "a\x85b", "\xa0", "a\xa0b",
    "\u1680x", "\u2000\u2001\u200a", "\u2028", "a\u2029b", "\u202f", "\u205f", "\u3000", "a\u3000\u3000b",
    "\u200b", "a\u200bb", "\u200d", "\ufeffBOM", "\u180e", "\x00", "a\x00b", "\x7f", "\x01\x02\x03",
    "Hello world", "Hello, world!", "hello", "HELLO", "HeLLo WoRLD", " Hello", "  Hello", "Hello ", "Hello  ",
    "I'm", "I'M", "i'm", "I'M HERE", "DON'T", "don't", "Don'T", "we'LL", "WE'LL", "they'RE", "THEY'VE",
    "he'D", "HE'D", "it's", "IT'S", "'s", "'S", "'t", "'re", "'RE", "''s", "'''", "x'sy", "x'Sy", "'ſ", "'K",
    "O'Reilly", "rock'n'roll", "it’s", "IT’S", "‘quoted’", "“double”", "'tis", "'twas", "y'all'd've",
    "0", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678901234567890", "3.14159", "1,000,000",
    "1e10", "0x1F", "-42", "+7", "v1.2.3", "2026-11-25", "12:34:56", "$100", "100%", "1/2", "10^6",
    "٠١٢٣٤٥٦٧٨٩", "۱۲۳", "१२३४", "１２３４５", "①②③", "ⅫⅣ", "½¼¾", "²³¹", "𝟙𝟚𝟛", "〇一二三", "Ⅷ世纪",
    "e\u0301", "\u00e9", "e\u0301\u0301", "A\u030a", "\u00c5", "\u212b", "\u1100\u1161\u11a8", "\uac01",
    "\u0041\u0308\u0301", "ﬁ ﬂ ﬀ ﬃ", "ﬆ", "ſ", "K", "ǅ ǈ ǋ", "ᾈ", "ß SS ẞ", "İstanbul", "ǅungla",
    "naïve café résumé", "NAÏVE CAFÉ", "Ångström", "Zürich", "Ærøskøbing", "Łódź", "Ελληνικά", "ΣΊΣΥΦΟΣ",
    "Русский текст", "ПРИВЕТ мир", "עברית", "العربية", "فارسی", "हिन्दी", "বাংলা", "தமிழ்", "ไทย ภาษา",
    "ລາວ", "ქართული", "Հայերեն", "ኢትዮጵያ", "ᚠᚢᚦᚨᚱᚲ", "𐌰𐌱𐌲", "ꦧꦱꦗꦮ", "ᏣᎳᎩ", "ᓄᓇᕗᑦ",
    "中文", "中文字符串", "你好，世界！", "日本語", "ひらがな", "カタカナ", "ｶﾀｶﾅ", "한국어", "한글 테스트",
    "漢字とかなの混じった文", "中文English混合", "数字123中文", "中文。標點，符號！", "「引用」『二重』",
    "々〆〇", "⺀⺁⻳", "⼀⼁⿕", "〡〢〩〸〺〻", "𠀀𠀁𪜀", "𫝀𬺰𮯠", "𰀀𱍊", "豈更車", "丽丸乁", "㐀㐁䶿",
    "𖿢𖿣𖿰𖿱", "﨎﨏", "一-龥", "ぁ-ゟ", "゠-ヿ",
    "😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈", "🇺🇸🇯🇵", "1️⃣", "#️⃣", "❤️", "✈︎", "☺",
    "🧑‍🤝‍🧑", "🫠🫡", "emoji 🎉 in text", "👨‍👩‍👧‍👦👨‍👩‍👧‍👦", "😀 😀  😀", "text😀text", "🤷‍♂️🤷‍♀️",
    "→ ← ↑ ↓", "∀x∈ℝ: x²≥0", "∑_{i=1}^n i", "α+β=γ", "≠≤≥±∞", "©®™", "€£¥₹₿", "§¶†‡", "…", "—–-",
    "`code`", "```python\nprint(1)\n```", "<div class=\"x\">hi</div>", "{\"a\": [1, 2, {\"b\": null}]}",
    "https://example.com/path?q=1&r=2#frag", "user@example.com", "C:\\Users\\name\\file.txt",
    "/usr/local/bin/python3", "a/b/c/d", "//", "///", "http://x.y/z/", "~/.cache/", "../..",
    "$ echo $HOME && ls -la | grep foo > out.txt 2>&1", "SELECT * FROM t WHERE a = 'x';",
    "\\frac{a}{b} + \\sqrt{x}", "# Title\n\n- item 1\n- item 2\n", "**bold** _it_ ~~st~~", "| a | b |\n|---|---|",
    "a" * 300, "=" * 200, "-" * 150 + "\n", " " * 100, "\n" * 50, "\t" * 40, "ab" * 200, "😀" * 40,
    "中" * 120, "1" * 100, ".\n" * 30, " \n" * 40, "\r\n" * 30, "a " * 100, "ha" * 100 + "!",
    "x" + " " * 17 + "y", " " * 7 + "\n" + " " * 3, "a\n\n\n\n\nb", "end with spaces     ",
    "QWxhZGRpbjpvcGVuIHNlc2FtZQ==" * 4, "0123456789abcdef" * 8, "aGVsbG8gd29ybGQ" * 10,
]

CODE = [
    "def f(x):\n    return x ** 2\n",
    "class Foo(Bar):\n    def __init__(self) -> None:\n        super().__init__()\n        self._x = {}\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
    "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}\n",
    "const x = async () => { await fetch(`/api/${id}`); };\n",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }\n",
    "if __name__ == \"__main__\":\n    main()\n",
    "    \n    \n\tindented\n\t\tmore\n",
    "x = [1,2,3]  # comment\r\ny = {'a':1}\r\n",
    "SELECT id, name\n  FROM users\n WHERE id IN (1, 2, 3)\n ORDER BY name DESC;\n",
    "<?xml version=\"1.0\"?>\n<root attr='v'>\n  <child/>\n</root>\n",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
    "λx.λy.x y", "a := b; c :: d; e => f; g -> h", "i++; j--; k += 1; l **= 2; m //= 3;",
    "@decorator\nasync def g(*args, **kwargs):\n    yield from h()\n",
    "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-old\n+new\n",
]

CHAT = [
    "<|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>",
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>",
    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello!<|im_end|>",
    "<|im_start|>system\nYou are Qwen.<|im_end|>",
    "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n</tool_call>",
    "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>Hello<｜end▁of▁sentence｜>",
    "<|start|>user<|message|>What is 2+2?<|end|><|start|>assistant<|channel|>final<|message|>4<|return|>",
    "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{}<|call|>",
    "<|im_system|>system<|im_middle|>You are Kimi.<|im_end|><|im_user|>user<|im_middle|>hi<|im_end|>",
    "[BOS]hello[EOS]", "<|im_end|><|im_start|>", "<|im_end|><|im_end|>", "<|im_end", "|im_end|>",
    "<|im_end|>>", "<<|im_end|>", "< |im_end| >", "<|IM_END|>", "<|eot_id|> <|eot_id|>", " <|eot_id|> ",
    "text<|endoftext|>text", "<think>reasoning</think>answer", "<thinking>not special</thinking>",
    "<|reserved_special_token_0|><|reserved_special_token_247|>", "<|reserved_200013|>", "[PAD][PAD][UNK]",
    "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{}"
    "<|tool_call_end|><|tool_calls_section_end|>",
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{}\n```<｜tool▁call▁end｜>",
    "<｜fim▁begin｜>def f():<｜fim▁hole｜>\n<｜fim▁end｜>", "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>",
]

PROSE = [
    "The quick brown fox jumps over the lazy dog.",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG!",
    "In 1969, Apollo 11 landed on the Moon; 600,000,000 people watched.",
    "She said, \"I'll be there at 5:30pm\" -- but she wasn't.",
    "Mr. O'Neil's dog's bone's gone.", "WHAT'S UP?! I'VE BEEN WAITING SINCE 10AM...",
    "Ça va? Très bien, merci. Où est la bibliothèque?", "Größe, Maße und Fuß sind Wörter mit ß.",
    "Die Straße heißt ÄÖÜ-Allee Nr. 12a.", "¿Dónde está el baño? ¡Aquí!",
    "Москва — столица России. В 2024 году...", "東京は日本の首都です。人口は約1400万人。",
    "北京是中国的首都，有3000多年的历史。", "서울은 대한민국의 수도입니다. 인구는 약 950만 명.",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.",
    "Tab\tseparated\tvalues\t1\t2\t3", "trailing newline\n", "multiple\n\nparagraphs\n\n\nhere",
    "Windows\r\nline\r\nendings\r\n", "Mixed\r\nline\n\rendings\r", "ok.\u2028next\u2029para",
]


def _assigned(cp: int) -> bool:
    return not (0xD800 <= cp <= 0xDFFF) and unicodedata.category(chr(cp)) not in ("Cn", "Cs")


BLOCKS = [
    (0x20, 0x7E), (0xA0, 0x24F), (0x250, 0x2FF), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x52F),
    (0x530, 0x58F), (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F), (0x980, 0x9FF), (0xE00, 0xE7F),
    (0x10A0, 0x10FF), (0x1100, 0x11FF), (0x1E00, 0x1EFF), (0x1F00, 0x1FFF), (0x2000, 0x206F),
    (0x2070, 0x209F), (0x20A0, 0x20CF), (0x2100, 0x214F), (0x2150, 0x218F), (0x2190, 0x21FF),
    (0x2200, 0x22FF), (0x2460, 0x24FF), (0x2500, 0x257F), (0x2E80, 0x2FDF), (0x3000, 0x303F),
    (0x3040, 0x30FF), (0x3100, 0x312F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA000, 0xA4CF),
    (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0xFB00, 0xFB4F), (0xFE00, 0xFE0F), (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF), (0x10000, 0x1007F), (0x10400, 0x1044F), (0x1D400, 0x1D7FF), (0x1F300, 0x1F5FF),
    (0x1F600, 0x1F64F), (0x1F900, 0x1F9FF), (0x1FA70, 0x1FAFF), (0x20000, 0x2A6DF), (0x2F800, 0x2FA1F),
    (0x30000, 0x3134F), (0xE0000, 0xE007F), (0xF0000, 0xF00FF), (0x0, 0x1F), (0x80, 0x9F),
]
GLUE = [" ", " ", " ", "  ", "\n", "\r\n", "\t", "'s", "'S", "'LL", "123", "4567", "\u200d", "\u3000", "/", ""]


def _random_unicode(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 12)):
            lo, hi = rng.choice(BLOCKS)
            run = []
            for _ in range(rng.randint(1, 8)):
                cp = rng.randint(lo, hi)
                if _assigned(cp):
                    run.append(chr(cp))
            parts.append("".join(run))
            parts.append(rng.choice(GLUE))
        out.append("".join(parts))
    return out


def _random_mix(rng: random.Random, n: int) -> list[str]:
    words = ["the", "THE", "The", "don't", "DON'T", "I'M", "we'll", "12", "3456", "中文", "日本", "😀",
             "👨‍👩‍👧", "x=1;", "->", "...", "(a)", "[b]", "{c}", "naïve", "ß", "Ω", "\t", "\n", "\r\n", "  ",
             "   ", "ſ", "İ", "ǅ", "１２", "٣", "é", "e\u0301", "ㄱ", "ᄀ", "가"]
    out = []
    for _ in range(n):
        k = rng.randint(2, 20)
        toks = [rng.choice(words + SPECIALS[:: 3]) for _ in range(k)]
        out.append(rng.choice(["", " "]).join(toks))
    return out


def build() -> list[str]:
    rng = random.Random(SEED)
    corpus: list[str] = []
    corpus += EDGE + CODE + CHAT + PROSE
    corpus += SPECIALS + [f"x{s}y" for s in SPECIALS] + [f" {s} " for s in SPECIALS[::2]]
    corpus += ["".join(rng.choice("0123456789") for _ in range(rng.randint(1, 25))) for _ in range(20)]
    corpus += [" " * rng.randint(1, 12) + rng.choice(["a", "\n", "1", "!", "中", ""]) + " " * rng.randint(0, 9)
               for _ in range(25)]
    corpus += _random_mix(rng, 120)
    corpus += _random_unicode(rng, 200)
    seen: set[str] = set()
    uniq = []
    for s in corpus:
        if s not in seen:
            seen.add(s)
            uniq.append(s)
    return uniq


def main() -> None:
    corpus = build()
    with (HERE / "corpus.jsonl").open("w", encoding="utf-8", newline="\n") as f:
        for s in corpus:
            f.write(json.dumps(s, ensure_ascii=True) + "\n")
    print(f"{len(corpus)} strings, {sum(map(len, corpus))} characters, Unicode {unicodedata.unidata_version}")


if __name__ == "__main__":
    main()
