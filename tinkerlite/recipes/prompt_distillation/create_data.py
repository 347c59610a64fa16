"""``python -m tinkerlite.recipes.prompt_distillation.create_data``: label sentences with a prompted teacher.

The teacher sees a long language-classification prompt and answers ``Final Answer: xx``; each parsed
label becomes a ``{"messages": [user: sentence, assistant: label]}`` row of ``output_file``, so the
student learns the behaviour without the prompt. Sentences come from ``file_path=`` (one per line),
default the bundled ``tiny_lang.txt``.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from ... import renderers
from ...tokenizer_utils import get_tokenizer
from ...utils.config import configclass
from .._cli import LOCAL_MODEL, recipe_main, runs_path
from .._data import bundled_path

__all__ = ["DEFAULT_OUTPUT_FILE", "LABELS", "LANGUAGE_CLASSIFICATION_PROMPT", "Config", "main", "parse_label"]

LABELS = ("ar", "de", "el", "en", "es", "fr", "hi", "ru", "tr", "ur", "vi", "zh", "ot")

LANGUAGE_CLASSIFICATION_PROMPT = """You identify the language a text is written in.

Answer with one label: ar (Arabic), de (German), el (Greek), en (English), es (Spanish), fr (French),
hi (Hindi), ru (Russian), tr (Turkish), ur (Urdu), vi (Vietnamese), zh (Chinese), ot (other or unknown).

Look only at the human language: skip URLs, numbers, code syntax and emoji. Romanised text without clear
cues of a language is 'ot'. Text with no letters left is 'ot'. When unsure, say 'ot'.

Reply with exactly one line: "Final Answer: xx", where xx is one of the labels above.

Text:
{text}
"""

DEFAULT_OUTPUT_FILE = runs_path("prompt_distillation", "data", "prompt_distillation_lang.jsonl")

_FINAL = re.compile(r"Final Answer:\s*(\w+)")


@configclass
class Config:
    output_file: str = DEFAULT_OUTPUT_FILE
    file_path: str | None = None
    model_name: str = "Qwen/Qwen3.6-35B-A3B"
    renderer_name: str | None = "qwen3_5_disable_thinking"
    max_tokens: int = 1000
    temperature: float = 0.15
    base_url: str | None = None


def parse_label(response: str) -> str | None:
    m = _FINAL.search(response)
    return m.group(1) if m else None


async def _label_all(config: Config, sentences: list[str]) -> list[tuple[str, str | None]]:
    from ...client.service_client import ServiceClient
    from ...types import SamplingParams

    service = ServiceClient(base_url=config.base_url)
    try:
        sampler = await service.create_sampling_client_async(base_model=config.model_name)
        tokenizer = get_tokenizer(config.model_name)
        from ...model_info import get_recommended_renderer_name

        renderer = renderers.get_renderer(
            config.renderer_name or get_recommended_renderer_name(config.model_name), tokenizer
        )
        params = SamplingParams(
            max_tokens=config.max_tokens, temperature=config.temperature, stop=renderer.get_stop_sequences()
        )

        async def one(sentence: str) -> tuple[str, str | None]:
            prompt = renderer.build_generation_prompt(
                [{"role": "user", "content": LANGUAGE_CLASSIFICATION_PROMPT.format(text=sentence)}]
            )
            res = await sampler.sample_async(prompt=prompt, num_samples=1, sampling_params=params)
            return sentence, parse_label(tokenizer.decode(res.sequences[0].tokens))

        return list(await asyncio.gather(*(one(s) for s in sentences)))
    finally:
        service.close()


def main(config: Config) -> None:
    out = Path(config.output_file)
    if out.exists():
        print(f"Output file {out} already exists")
        return
    src = config.file_path or bundled_path("tiny_lang.txt")
    sentences = [s.strip() for s in Path(src).read_text(encoding="utf-8").splitlines() if s.strip()]
    labelled = asyncio.run(_label_all(config, sentences))
    rows: list[dict[str, Any]] = [
        {"messages": [{"role": "user", "content": sentence}, {"role": "assistant", "content": label}]}
        for sentence, label in labelled
        if label is not None
    ]
    if not rows:
        print(f"the teacher gave no 'Final Answer: xx' for any of {len(sentences)} sentences; nothing written")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    print(f"Saved {len(rows)} of {len(sentences)} labelled sentences to {out}")


LOCAL_DEFAULTS: dict[str, Any] = {"model_name": LOCAL_MODEL, "renderer_name": None, "max_tokens": 32}

if __name__ == "__main__":
    raise SystemExit(recipe_main("prompt_distillation.create_data", __doc__ or "", Config, main,
                                 local_defaults=LOCAL_DEFAULTS))
