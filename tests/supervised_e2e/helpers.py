"""Shared pieces of the SFT end-to-end tests: a small dataset, a small config, weights read from a state dir."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from tinkerlite._resources import example_data_path
from tinkerlite.supervised.data import FromConversationFileBuilder
from tinkerlite.supervised.train import Config
from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig

MODEL = "tinkerlite/tiny-chat"
RENDERER = "role_colon"
API_KEY = "tml-e2e"


def write_small_dataset(path: Path, n_rows: int = 40) -> Path:
    """The first ``n_rows`` rows of the bundled tiny_chat.jsonl: short, real, learnable."""
    lines = example_data_path("tiny_chat.jsonl").read_text("utf-8").splitlines()[:n_rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def small_config(log_path: str | Path, data: str | Path, base_url: str, **overrides: Any) -> Config:
    builder = FromConversationFileBuilder(
        common_config=ChatDatasetBuilderCommonConfig(
            model_name_for_tokenizer=MODEL,
            renderer_name=RENDERER,
            max_length=overrides.pop("max_length", 96),
            batch_size=overrides.pop("batch_size", 4),
        ),
        file_path=str(data),
        test_size=overrides.pop("test_size", 8),
        shuffle_seed=0,
    )
    kw: dict[str, Any] = dict(
        log_path=str(log_path),
        model_name=MODEL,
        recipe_name="sl",
        renderer_name=RENDERER,
        dataset_builder=builder,
        learning_rate=3e-3,
        lr_schedule="linear",
        num_epochs=1,
        lora_rank=8,
        base_url=base_url,
        api_key=API_KEY,
        save_every=0,
        eval_every=0,
        show_progress=False,
    )
    kw.update(overrides)
    return Config(**kw)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def checkpoint_arrays(state_dir: str | Path, tinker_path: str) -> dict[str, bytes]:
    """Each array of a saved checkpoint as its raw ``.npy`` member bytes (header + data).

    The ``.npz`` container itself carries zip timestamps, so whole-file bytes differ between two saves
    of the same weights; the members are what must be bit-identical.
    """
    run, kind, name = tinker_path[len("tinker://") :].split("/")
    npz = Path(state_dir) / "runs" / run / kind / f"{name}.npz"
    with zipfile.ZipFile(npz) as z:
        return {n: z.read(n) for n in sorted(z.namelist())}
