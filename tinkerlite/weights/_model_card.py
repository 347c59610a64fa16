"""Model cards (``README.md`` with YAML front matter) for merged models and adapters, without huggingface_hub.

``generate_model_card`` returns a :class:`ModelCard` with the parts of ``huggingface_hub.ModelCard`` that the
cookbook's callers use: ``str(card)``, ``card.content``, ``card.data`` (the front-matter fields) and
``card.save(path)``. The text follows the cookbook's template; "Framework versions" names tinkerlite
instead of transformers/torch, which tinkerlite does not use.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ModelCard", "ModelCardConfig", "generate_model_card"]

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


@dataclass
class ModelCardConfig:
    """Configuration for auto-generating a HuggingFace model card (standard HF metadata fields only)."""

    base_model: str
    """HuggingFace model ID used as the base (e.g. ``"Qwen/Qwen3-8B"``)."""

    datasets: list[str] = field(default_factory=list)
    """HuggingFace dataset IDs used for training."""

    tags: list[str] = field(default_factory=list)
    """Additional tags to include (appended to auto-generated defaults)."""

    license: str | None = None
    """SPDX license identifier (e.g. ``"apache-2.0"``)."""

    language: list[str] = field(default_factory=list)
    """Language codes (e.g. ``["en"]``)."""


def _yaml_scalar(value: Any) -> str:
    """Plain YAML for simple words (``Qwen/Qwen3-8B``, ``apache-2.0``); a JSON string (valid YAML) otherwise."""
    if isinstance(value, str) and not _PLAIN.fullmatch(value):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class ModelCard:
    """A model card: front-matter ``data`` plus the markdown ``content`` (the whole file)."""

    def __init__(self, data: dict[str, Any], body: str) -> None:
        self.data = data
        self.body = body

    @property
    def content(self) -> str:
        lines = ["---"]
        for key, value in self.data.items():
            if isinstance(value, list):
                lines.append(f"{key}:")
                lines.extend(f"- {_yaml_scalar(v)}" for v in value)
            else:
                lines.append(f"{key}: {_yaml_scalar(value)}")
        lines.append("---")
        return "\n".join(lines) + "\n\n" + self.body

    def __str__(self) -> str:
        return self.content

    def save(self, filepath: str | os.PathLike[str]) -> None:
        Path(filepath).write_text(self.content, encoding="utf-8")


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def generate_model_card(
    *,
    config: ModelCardConfig,
    repo_id: str | None = None,
    model_path: str | None = None,
) -> ModelCard:
    """A model card from ``config``; ``model_path`` with an ``adapter_config.json`` makes it a LoRA adapter's."""
    is_adapter = model_path is not None and (Path(model_path) / "adapter_config.json").exists()
    tags = ["tinker", "tinker-cookbook", *(["peft", "lora"] if is_adapter else []), *config.tags]
    data: dict[str, Any] = {
        "base_model": config.base_model,
        "library_name": "peft" if is_adapter else "transformers",
        "pipeline_tag": "text-generation",
        "tags": tags,
    }
    if config.datasets:
        data["datasets"] = list(config.datasets)
    if config.license:
        data["license"] = config.license
    if config.language:
        data["language"] = list(config.language)
    repo = repo_id or "your-repo-id"
    if is_adapter:
        usage = (
            "from peft import PeftModel\nfrom transformers import AutoModelForCausalLM\n\n"
            f'base = AutoModelForCausalLM.from_pretrained("{config.base_model}")\n'
            f'model = PeftModel.from_pretrained(base, "{repo}")'
        )
    else:
        usage = (
            f'from transformers import AutoModelForCausalLM\n\nmodel = AutoModelForCausalLM.from_pretrained("{repo}")'
        )
    body = (
        f"# {repo_id or config.base_model}\n\n"
        f"This model was fine-tuned from [{config.base_model}](https://huggingface.co/{config.base_model}) "
        "using [Tinker](https://thinkingmachines.ai/tinker) and "
        "[tinker-cookbook](https://github.com/thinking-machines-lab/tinker-cookbook) "
        "(through tinkerlite).\n\n"
        "## Model details\n\n"
        f"- **Base model:** [{config.base_model}](https://huggingface.co/{config.base_model})\n"
        f"- **Format:** {'LoRA adapter (PEFT)' if is_adapter else 'Merged model'}\n\n"
        f"## Usage\n\n```python\n{usage}\n```\n\n"
        f"## Framework versions\n\n- tinkerlite: {_version('tinkerlite')}\n"
    )
    return ModelCard(data, body)
