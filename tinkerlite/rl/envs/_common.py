"""Renderer construction shared by the dataset builders."""

from __future__ import annotations

from typing import Any


def make_renderer(model_name_for_tokenizer: str, renderer_name: str) -> Any:
    from ...renderers import get_renderer
    from ...tokenizer_utils import get_tokenizer

    return get_renderer(renderer_name, get_tokenizer(model_name_for_tokenizer))
