"""Image-part goldens made by the cookbook 0.6.1 (run in the throwaway venv of make_renderer_goldens.py).

Needs Pillow there too. The Qwen-family counts come from HF ``transformers``' own ``Qwen2VLImageProcessorPil``
(patch 16, merge 2: Qwen3-VL's values); tinkerlite's tests use tests/renderers/images_for_tests's pure
``QwenVLPatchProcessor``, so a wrong count on either side fails the comparison.

Output: tests/renderers/goldens/images/{renderer}@{family}.json.
"""

# mypy: disable-error-code="import-not-found,import-untyped"
from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "golden"))

from make_renderer_goldens import _load_tokenizers, _rle  # noqa: E402

from tests.renderers.images_for_tests import (  # noqa: E402
    IMAGE_MODES,
    IMAGE_RENDERERS,
    KimiResizeProcessor,
    describe_chunks,
    image_conversations,
    make_images,
)


def main() -> None:
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    import PIL
    from tinker_cookbook.renderers import TrainOnWhat, get_renderer
    from transformers.models.qwen2_vl import image_processing_pil_qwen2_vl as hf_qwen2_vl

    qwen = hf_qwen2_vl.Qwen2VLImageProcessorPil(
        patch_size=16, merge_size=2, temporal_patch_size=2, size={"shortest_edge": 65536, "longest_edge": 16777216}
    )
    processors: dict[str, Any] = {"qwen": qwen, "kimi": KimiResizeProcessor()}
    tokenizers = _load_tokenizers(None)
    out_dir = ROOT / "tests" / "renderers" / "goldens" / "images"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, family, kind in IMAGE_RENDERERS:
        renderer = get_renderer(name, tokenizers[family], image_processor=processors[kind], model_name=family)
        records = []
        for conv in image_conversations(make_images()):
            try:
                rec: dict[str, Any] = {"prompt": describe_chunks(renderer.build_generation_prompt(conv[:-1]))}
                for mode in IMAGE_MODES:
                    mi, w = renderer.build_supervised_example(conv, train_on_what=TrainOnWhat(mode))
                    rec[mode] = {"chunks": describe_chunks(mi), "weights": _rle([float(x) for x in w.tolist()])}
            except Exception as e:  # the cookbook refuses it (e.g. nemotron3 is built without a processor)
                rec = {"error": type(e).__name__, "message": str(e)}
            records.append(rec)
        doc = {
            "generator": "tests/golden/make_renderer_image_goldens.py",
            "renderer": name,
            "tokenizer_family": family,
            "processor": kind,
            "pillow_version": PIL.__version__,
            "records": records,
        }
        path = out_dir / f"{name}@{family}.json"
        path.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
