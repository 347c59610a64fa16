"""Image parts for the vision-language renderers: ``image_to_chunk`` and ``ImageProcessorProtocol``.

Same layout as the cookbook 0.6.1: an image (a PIL image, a URL or a ``data:`` URI) becomes one JPEG
``ImageChunk`` whose ``expected_tokens`` the image processor computes (Qwen-VL style
``get_number_of_image_patches`` // ``merge_size**2``, Kimi-K2.5 style ``get_resize_config``, or
Nemotron 3.5's patch budget). Pillow is optional (``pip install 'tinkerlite[vision]'``) and imported
only when an image is rendered, so text-only users never need it.
"""

from __future__ import annotations

import io
import urllib.request
from typing import Any, Protocol

from tinkerlite.renderers.errors import RendererError
from tinkerlite.types import ImageChunk

__all__ = ["ImageProcessorProtocol", "image_to_chunk", "require_pillow"]


class ImageProcessorProtocol(Protocol):
    """What a VL renderer needs from an image processor: the number of image tokens of an image.

    Provide ``get_number_of_image_patches`` (Qwen3-VL style; divided by ``merge_size ** 2``) or
    ``get_resize_config`` (Kimi-K2.5 style; its ``"num_tokens"``). HF ``transformers`` image processors fit.
    """

    merge_size: int
    patch_size: int

    def get_number_of_image_patches(self, height: int, width: int, images_kwargs: dict[str, Any] | None = None) -> int:
        """Raw patches before merging."""
        raise NotImplementedError()

    def get_resize_config(self, image_data: dict[str, Any]) -> dict[str, Any]:
        """Resize configuration, with the final token count under ``"num_tokens"``."""
        raise NotImplementedError()


def require_pillow() -> Any:
    """The ``PIL.Image`` module, or a RendererError naming the ``vision`` extra."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise RendererError(
            "rendering image parts needs Pillow: pip install 'tinkerlite[vision]'", field="content.image"
        ) from exc
    return Image


def _count_tokens(pil_image: Any, image_processor: Any) -> int:
    if hasattr(image_processor, "get_number_of_image_patches"):
        width, height = pil_image.size
        patches = image_processor.get_number_of_image_patches(height, width, images_kwargs={})
        return int(patches // image_processor.merge_size**2)
    if hasattr(image_processor, "get_resize_config"):
        config = image_processor.get_resize_config({"type": "image", "image": pil_image})
        return int(config["num_tokens"])
    if hasattr(image_processor, "_compute_target_patches"):  # Nemotron 3.5 Super's processor
        shuffle = image_processor._downsample_factor**2
        budget = min((image_processor.max_model_len - 4) * shuffle, image_processor.max_num_patches)
        budget = max(budget, image_processor.min_num_patches)
        w_patches, h_patches = image_processor._compute_target_patches(pil_image, budget)
        return int(w_patches * h_patches // shuffle)
    raise RendererError(f"Don't know how to get the number of image tokens for image processor: {image_processor}")


def image_to_chunk(image_or_str: Any, image_processor: ImageProcessorProtocol) -> ImageChunk:
    """A PIL image, URL or data URI as a JPEG ``ImageChunk`` with the processor's token count.

    RGBA/LA/P images are converted to RGB first (JPEG has no alpha), as in the cookbook.
    """
    image_mod = require_pillow()
    if isinstance(image_or_str, str):
        with urllib.request.urlopen(image_or_str) as response:
            pil_image = image_mod.open(io.BytesIO(response.read()))
    elif isinstance(image_or_str, image_mod.Image):
        pil_image = image_or_str
    else:
        raise RendererError("The provided image must be a PIL.Image.Image, URL, or data URI.", field="content.image")
    if pil_image.mode in ("RGBA", "LA", "P"):
        pil_image = pil_image.convert("RGB")
    buf = io.BytesIO()
    pil_image.save(buf, format="JPEG")
    return ImageChunk(data=buf.getvalue(), format="jpeg", expected_tokens=_count_tokens(pil_image, image_processor))
