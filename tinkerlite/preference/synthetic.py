"""A preference task the built-in tiny model can learn in a minute: follow the requested letter case.

Prompts say ``lower: <word>`` or ``upper: <word>``; the preferred completion is the word in that case,
the rejected one the word in the other case. Half the prompts ask for each case and A/B order is
random, so a policy that ignores the instruction scores 50% whatever its bias towards either case;
only conditioning on the first word of the prompt does better. Words are random letter strings, so
held-out rows test the rule rather than memorised answers.
"""

from __future__ import annotations

import random

from ..renderers import Message
from .types import Comparison, LabeledComparison

__all__ = ["make_case_preference_set"]

_CONSONANTS = "bcdfghjklmnprstvwz"
_VOWELS = "aeiou"


def _word(rng: random.Random) -> str:
    n = rng.randrange(2, 4)
    return "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(n))


def _assistant(text: str) -> Message:
    return Message(role="assistant", content=text)


def make_case_preference_set(n: int, seed: int = 0, num_ties: int = 0) -> list[LabeledComparison]:
    """``n`` labelled comparisons (balanced over instructions), then ``num_ties`` tie rows."""
    rng = random.Random(seed)
    out: list[LabeledComparison] = []
    for i in range(n + num_ties):
        word = _word(rng)
        mode = "lower" if i % 2 == 0 else "upper"
        good, bad = (word, word.upper()) if mode == "lower" else (word.upper(), word)
        prompt = [Message(role="user", content=f"{mode}: {word}")]
        if i >= n:  # a tie: two acceptable spellings, no preference between them
            tie = Comparison(prompt, [_assistant(good)], [_assistant(good + ".")])
            out.append(LabeledComparison(tie, "Tie"))
            continue
        a_first = rng.random() < 0.5
        a, b = (good, bad) if a_first else (bad, good)
        comp = Comparison(prompt, [_assistant(a)], [_assistant(b)])
        out.append(LabeledComparison(comp, "A" if a_first else "B"))
    rng.shuffle(out)
    return out
