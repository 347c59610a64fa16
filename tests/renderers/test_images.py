"""Image parts against goldens made by the cookbook 0.6.1 (tests/golden/make_renderer_image_goldens.py).

Every chunk of the generation prompt and of the supervised examples must match: the text ids, each image's
place, format, ``expected_tokens`` (counted by HF's own Qwen2-VL processor on the cookbook side, by a pure
reimplementation here) and the weights. The JPEG bytes are compared when this Pillow is the one the
goldens were made with; otherwise the decoded size. Where the cookbook asserts (nemotron3 is built
without an image processor), tinkerlite raises a RendererError.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.renderers import RendererError, TrainOnWhat, get_renderer
from tinkerlite.renderers.base import image_to_chunk

from .images_for_tests import (
    IMAGE_MODES,
    KimiResizeProcessor,
    QwenVLPatchProcessor,
    describe_chunks,
    image_conversations,
    make_images,
)
from .tokenizers_for_tests import load

PIL = pytest.importorskip("PIL", reason="the image tests need Pillow (tinkerlite[vision], in the test extra)")
GOLDENS = sorted((Path(__file__).parent / "goldens" / "images").glob("*.json"))


def _rle_expand(rle: list[list[float]]) -> list[float]:
    return [w for w, n in rle for _ in range(int(n))]


def _comparable(chunks: list[dict[str, Any]], same_pillow: bool) -> list[dict[str, Any]]:
    out = []
    for c in chunks:
        if "image" in c and not same_pillow:
            c = {"image": {k: v for k, v in c["image"].items() if k != "sha256"}}
        out.append(c)
    return out


def test_goldens_exist() -> None:
    assert len(GOLDENS) >= 9


@pytest.mark.parametrize("path", GOLDENS, ids=lambda p: p.stem)
def test_image_layout_matches_the_cookbook(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    processor = QwenVLPatchProcessor() if doc["processor"] == "qwen" else KimiResizeProcessor()
    renderer = get_renderer(doc["renderer"], load(doc["tokenizer_family"]), image_processor=processor)
    same_pillow = PIL.__version__ == doc["pillow_version"]
    convs = image_conversations(make_images())
    assert len(convs) == len(doc["records"])
    for conv, rec in zip(convs, doc["records"], strict=True):
        if "error" in rec:
            assert rec["error"] == "AssertionError"
            with pytest.raises(RendererError, match="image"):
                renderer.build_generation_prompt(conv[:-1])
            continue
        assert _comparable(describe_chunks(renderer.build_generation_prompt(conv[:-1])), same_pillow) == (
            _comparable(rec["prompt"], same_pillow)
        )
        for mode in IMAGE_MODES:
            mi, w = renderer.build_supervised_example(conv, train_on_what=TrainOnWhat(mode))
            assert _comparable(describe_chunks(mi), same_pillow) == _comparable(rec[mode]["chunks"], same_pillow)
            assert w.tolist() == _rle_expand(rec[mode]["weights"])
            assert len(w.tolist()) == mi.length


def test_image_without_processor_names_the_part() -> None:
    renderer = get_renderer("qwen3_vl", load("qwen3"))
    conv = image_conversations(make_images())[0]
    with pytest.raises(RendererError, match=r"messages\[0\]\.content\[1\]"):
        renderer.build_generation_prompt(conv)


def test_rgba_becomes_rgb_jpeg_and_bad_images_are_refused() -> None:
    images = make_images()
    c = image_to_chunk(images["rgba"], QwenVLPatchProcessor())
    assert c.format == "jpeg" and c.data[:2] == b"\xff\xd8"
    with pytest.raises(RendererError, match=r"PIL\.Image\.Image, URL, or data URI"):
        image_to_chunk(b"not an image", QwenVLPatchProcessor())  # type: ignore[arg-type]
    with pytest.raises(RendererError, match="number of image tokens"):
        image_to_chunk(images["rgb"], object())  # type: ignore[arg-type]


def test_missing_pillow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(RendererError, match=r"tinkerlite\[vision\]"):
        image_to_chunk("data:image/png;base64,AAAA", QwenVLPatchProcessor())
