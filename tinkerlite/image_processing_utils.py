"""Image helpers for vision messages (the cookbook's ``image_processing_utils``): a model's HF image
processor, images as base64 JPEG ``data:`` URIs, and longest-side resizing.

Pillow is loaded when an image is handled (extra ``vision``); ``get_image_processor`` needs
``transformers`` (not an extra: install it yourself). Each missing package is named in the error.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any, TypeAlias

from ._optional import require

__all__ = ["ImageProcessor", "get_image_processor", "image_to_data_uri", "resize_image"]

ImageProcessor: TypeAlias = Any
"""A ``transformers`` image processor (or None for models whose renderer tokenizes images itself)."""

_PINNED: dict[str, str] = {
    "moonshotai/Kimi-K2.5": "3367c8d1c68584429fab7faf845a32d5195b6ac1",
    "moonshotai/Kimi-K2.6": "b5aabbfb20227ed42becbf5541dbffd213942c58",
    "nvidia/NVIDIA-Nemotron-3.5-Super-VL-120B-A12B-BF16": "533d66230b6e75518bf32d2d7a7b95a24c3dd517",
}


def _pil() -> Any:
    return require("PIL.Image", "image handling", "vision")


def _is_tml_renderers_model(base: str) -> bool:
    return base.startswith("thinkingmachines/Inkling") or base.startswith("moonshotai/Kimi-K3.1-Pro")


@cache
def get_image_processor(model_name: str) -> ImageProcessor:
    """The model's ``AutoImageProcessor`` (pinned revisions and remote code where the cookbook pins them);
    None for tml-renderers models (Inkling, Kimi K3.1 Pro)."""
    model_name = model_name.split(":", 1)[0]
    if _is_tml_renderers_model(model_name):
        return None
    try:
        from transformers.models.auto import image_processing_auto as auto  # type: ignore[import-not-found]
    except ImportError as e:
        raise ImportError(f"get_image_processor({model_name!r}) needs transformers: pip install transformers") from e
    kwargs: dict[str, Any] = {}
    if os.environ.get("HF_TRUST_REMOTE_CODE", "").lower() in ("1", "true", "yes"):
        kwargs["trust_remote_code"] = True
    if model_name in _PINNED:
        kwargs.update(trust_remote_code=True, revision=_PINNED[model_name])
    return auto.AutoImageProcessor.from_pretrained(model_name, **kwargs)


def image_to_data_uri(image: Any) -> str:
    """A base64 JPEG ``data:`` URI from a PIL image or a local path / ``file://`` URI (a ``data:`` URI is
    returned unchanged; remote URLs are refused)."""
    import base64
    import io
    from pathlib import Path
    from urllib.parse import unquote, urlparse

    if isinstance(image, str) and image.startswith("data:"):
        return image
    pil = _pil()

    def open_local(path: Path) -> Any:
        with pil.open(path.expanduser()) as opened:
            return opened.copy()

    if isinstance(image, pil.Image):
        picture = image
    elif isinstance(image, str):
        parsed = urlparse(image)
        if parsed.scheme == "":
            picture = open_local(Path(image))
        elif parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
            picture = open_local(Path(unquote(parsed.path)))
        else:
            raise ValueError(
                f"does not fetch remote image URLs (scheme {parsed.scheme!r}); materialize "
                f"{image!r} into a PIL image, a local path, or a base64 data: URI first"
            )
    else:
        raise TypeError(f"image must be a PIL.Image.Image or str; got {type(image)!r}")
    if picture.mode in ("RGBA", "LA", "P"):
        picture = picture.convert("RGB")
    buf = io.BytesIO()
    picture.save(buf, format="JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def resize_image(image: Any, max_size: int) -> Any:
    """The image with its longest side at most ``max_size`` (aspect kept, LANCZOS); unchanged if smaller."""
    width, height = image.size
    if max(width, height) <= max_size:
        return image
    if width > height:
        size = (max_size, int(height * max_size / width))
    else:
        size = (int(width * max_size / height), max_size)
    return image.resize(size, _pil().Resampling.LANCZOS)
