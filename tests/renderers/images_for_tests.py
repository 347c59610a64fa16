"""Small generated images and pure-Python image processors, shared by the image goldens' two sides.

The generator (tests/golden/make_renderer_image_goldens.py) renders these with the cookbook and HF's
``Qwen2VLImageProcessor``; the tests render them with tinkerlite and :class:`QwenVLPatchProcessor`, a
pure reimplementation of that processor's patch count (``smart_resize``), so the token counts are pinned
against HF's own code, not against themselves.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any


def make_images() -> dict[str, Any]:
    """Three deterministic images: an RGB gradient, an RGBA strip, a palette (P) square; and a data URI."""
    from PIL import Image

    rgb = Image.new("RGB", (48, 32))
    rgb.putdata([(x * 5 % 256, y * 8 % 256, (x + y) * 3 % 256) for y in range(32) for x in range(48)])
    rgba = Image.new("RGBA", (20, 70))
    rgba.putdata([(200, y * 3 % 256, x * 12 % 256, (x * y) % 256) for y in range(70) for x in range(20)])
    pal = Image.new("P", (100, 100))
    pal.putpalette([v for i in range(256) for v in (i, 255 - i, (i * 7) % 256)])
    pal.putdata([(x // 10 + y // 10 * 10) % 256 for y in range(100) for x in range(100)])
    buf = io.BytesIO()
    rgb.resize((300, 200)).save(buf, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return {"rgb": rgb, "rgba": rgba, "pal": pal, "uri": uri}


class QwenVLPatchProcessor:
    """Qwen2/3-VL's patch count: ``smart_resize`` to multiples of ``patch_size * merge_size``."""

    def __init__(self, patch_size: int = 16, merge_size: int = 2, min_pixels: int = 65536, max_pixels: int = 16777216):
        self.patch_size, self.merge_size = patch_size, merge_size
        self.min_pixels, self.max_pixels = min_pixels, max_pixels

    def get_number_of_image_patches(self, height: int, width: int, images_kwargs: dict[str, Any] | None = None) -> int:
        factor = self.patch_size * self.merge_size
        h_bar, w_bar = round(height / factor) * factor, round(width / factor) * factor
        if h_bar * w_bar > self.max_pixels:
            beta = math.sqrt(height * width / self.max_pixels)
            h_bar = max(factor, math.floor(height / beta / factor) * factor)
            w_bar = max(factor, math.floor(width / beta / factor) * factor)
        elif h_bar * w_bar < self.min_pixels:
            beta = math.sqrt(self.min_pixels / (height * width))
            h_bar, w_bar = math.ceil(height * beta / factor) * factor, math.ceil(width * beta / factor) * factor
        return (h_bar // self.patch_size) * (w_bar // self.patch_size)


class KimiResizeProcessor:
    """A Kimi-K2.5-style processor (``get_resize_config``): one token per 28x28 cell, rounded up."""

    merge_size = 2
    patch_size = 14

    def get_resize_config(self, image_data: dict[str, Any]) -> dict[str, Any]:
        width, height = image_data["image"].size
        return {"num_tokens": math.ceil(width / 28) * math.ceil(height / 28)}


def image_conversations(images: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Conversations with one image, several images (labels), an image between texts, and a data URI."""
    return [
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image", "image": images["rgb"]},
                ],
            },
            {"role": "assistant", "content": "A colour gradient."},
        ],
        [
            {"role": "system", "content": "You compare images."},
            {
                "role": "user",
                "content": [
                    {"type": "image", "image": images["rgba"]},
                    {"type": "text", "text": "and"},
                    {"type": "image", "image": images["pal"]},
                    {"type": "text", "text": "Compare them."},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Two images."},
                    {"type": "text", "text": "The first is taller."},
                ],
            },
        ],
        [
            {"role": "user", "content": [{"type": "image", "image": images["uri"]}]},
            {"role": "assistant", "content": "Stripes."},
            {"role": "user", "content": "Thanks!"},
            {"role": "assistant", "content": "You're welcome."},
        ],
    ]


IMAGE_RENDERERS: list[tuple[str, str, str]] = [
    # (renderer, tokenizer family, processor kind)
    ("qwen3_vl", "qwen3", "qwen"),
    ("qwen3_vl_instruct", "qwen3", "qwen"),
    ("qwen3_5", "qwen3", "qwen"),
    ("qwen3_5_disable_thinking", "qwen3", "qwen"),
    ("qwen3_8_xhigh_reasoning", "qwen3", "qwen"),
    ("nemotron3", "qwen3", "qwen"),
    ("nemotron3_ultra", "qwen3", "qwen"),
    ("kimi_k25", "kimi_k2", "kimi"),
    ("kimi_k26", "kimi_k2", "kimi"),
]
IMAGE_MODES = ["last_assistant_message", "all_messages", "all_tokens"]


def describe_chunks(model_input: Any) -> list[dict[str, Any]]:
    """Chunks as JSON: ``{"tokens": [...]}`` or ``{"image": {format, expected_tokens, sha256, size}}``."""
    import hashlib

    from PIL import Image

    out: list[dict[str, Any]] = []
    for c in model_input.chunks:
        if getattr(c, "type", None) == "encoded_text" or hasattr(c, "tokens"):
            if out and "tokens" in out[-1]:
                out[-1]["tokens"].extend(c.tokens)  # adjacent text chunks: only the ids matter
            else:
                out.append({"tokens": list(c.tokens)})
        else:
            size = list(Image.open(io.BytesIO(c.data)).size)
            digest = hashlib.sha256(c.data).hexdigest()
            out.append(
                {"image": {"format": c.format, "expected_tokens": c.expected_tokens, "sha256": digest, "size": size}}
            )
    return out
