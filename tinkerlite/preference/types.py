"""Preference data: two completions of one prompt, and which one a labeller preferred."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from ..renderers import Message

__all__ = ["LABELS", "TIE_POLICIES", "Comparison", "Label", "LabeledComparison", "TiePolicy", "chosen_and_rejected"]

Label = Literal["A", "B", "Tie"]
LABELS: tuple[str, ...] = ("A", "B", "Tie")

TiePolicy = Literal["skip", "error", "as_b"]
"""What a DPO dataset does with a ``"Tie"`` row. DPO needs a winner, so a tie carries no signal:

* ``skip`` (default): drop it and count it (``num_ties_skipped`` in the dataset stats and metrics);
* ``error``: refuse the file, naming the line;
* ``as_b``: the cookbook's behaviour (its ``label == "A"`` test sends ties to B), for exact parity.
"""
TIE_POLICIES: tuple[str, ...] = ("skip", "error", "as_b")


@dataclass(frozen=True)
class Comparison:
    prompt_conversation: list[Message]
    completion_A: list[Message]
    completion_B: list[Message]

    def swap(self) -> Comparison:
        return Comparison(self.prompt_conversation, self.completion_B, self.completion_A)


@dataclass(frozen=True)
class LabeledComparison:
    comparison: Comparison
    label: Label

    def swap(self) -> LabeledComparison:
        """A↔B with the label flipped (a tie stays a tie), so the meaning is unchanged."""
        flipped: Label = "B" if self.label == "A" else "A" if self.label == "B" else "Tie"
        return LabeledComparison(self.comparison.swap(), flipped)


def chosen_and_rejected(
    lc: LabeledComparison, tie_policy: TiePolicy = "skip"
) -> tuple[list[Message], list[Message]] | None:
    """(chosen, rejected) completions, or ``None`` for a tie that ``tie_policy`` skips."""
    c = lc.comparison
    if lc.label == "A":
        return c.completion_A, c.completion_B
    if lc.label == "B":
        return c.completion_B, c.completion_A
    if lc.label != "Tie":
        raise ValidationError(f"must be one of {', '.join(LABELS)}; got {lc.label!r}", field="label")
    if tie_policy == "as_b":
        return c.completion_B, c.completion_A
    if tie_policy == "skip":
        return None
    if tie_policy == "error":
        raise ValidationError("a tie has no chosen completion (tie_policy='error')", field="label")
    raise ValidationError(f"must be one of {', '.join(TIE_POLICIES)}; got {tie_policy!r}", field="tie_policy")

_MODELS = (
    "ComparisonRenderer",
    "ComparisonRendererFromChatRenderer",
    "PreferenceModel",
    "PreferenceModelBuilder",
    "PreferenceModelBuilderFromChatRenderer",
    "PreferenceModelFromChatRenderer",
)


def __getattr__(name: str) -> Any:
    """The cookbook keeps its comparison renderers and preference models here too; they live in
    :mod:`.preference_models` (which builds on this module) and resolve on first use."""
    if name in _MODELS:
        from . import preference_models

        return getattr(preference_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
