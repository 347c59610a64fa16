"""Map cookbook model names to the hub repo and revision whose tokenizer they use (tinker-cookbook 0.6.1).

Every other name is its own repo, read as published: tinkerlite never rewrites a tokenizer because of a
model name. That matters for DeepSeek: ``deepseek-ai/DeepSeek-V3.1`` (and ``-Base``) publish a
``tokenizer.json`` in which ``<think>``/``</think>`` are added tokens 128798/128799 (placeholders in V3, where
the text ``<think>`` is several tokens), which the cookbook's DeepSeek renderers rely on. A local directory
holding V3's files therefore loads as V3, whatever it is called; the test data derives a V3.1 file
explicitly (``tests/testdata.py``, family ``deepseek_v3_1``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ValidationError

__all__ = ["KIMI_TOKENIZER_REVISIONS", "LLAMA3_TOKENIZER_REPO", "HubTarget", "hub_target_for_model"]

# Meta's Llama 3 repos are gated; the cookbook reads the same tokenizer from this public mirror.
LLAMA3_TOKENIZER_REPO = "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer"

# Kimi repos change their tokenizer code over time; the cookbook pins the revisions it was tested with.
KIMI_TOKENIZER_REVISIONS: dict[str, str] = {
    "moonshotai/Kimi-K2-Thinking": "a51ccc050d73dab088bf7b0e2dd9b30ae85a4e55",
    "moonshotai/Kimi-K2.5": "2426b45b6af0da48d0dcce71bbce6225e5c73adc",
    "moonshotai/Kimi-K2.6": "b5aabbfb20227ed42becbf5541dbffd213942c58",
}

# Families the cookbook tokenizes with tml-renderers' built-in tables, which no public file describes.
_TML_ONLY_PREFIXES = ("thinkingmachines/Inkling", "moonshotai/Kimi-K3.1-Pro")


@dataclass(frozen=True)
class HubTarget:
    repo_id: str
    revision: str


def hub_target_for_model(model_name: str, revision: str | None = None) -> HubTarget:
    """``"meta-llama/Llama-3.1-8B-Instruct:peft"`` -> the mirror repo at ``main``, and so on.

    An explicit ``revision`` overrides the pinned one.
    """
    name = model_name.split(":", 1)[0]
    if name.startswith(_TML_ONLY_PREFIXES):
        raise ValidationError(
            f"{name!r} is tokenized by tml-renderers' built-in tables, not by a hub tokenizer.json: use "
            "tinkerlite.tokenizer_utils.get_tokenizer (it serves Inkling's o200k_base_chat; Inkling-2-Small and "
            "Kimi K3.1-Pro need tml-renderers>=0.4.1, not on PyPI) or register a factory with register_tokenizer()",
            field="model_name",
        )
    if name.startswith("meta-llama/Llama-3"):
        return HubTarget(LLAMA3_TOKENIZER_REPO, revision or "main")
    return HubTarget(name, revision or KIMI_TOKENIZER_REVISIONS.get(name, "main"))
