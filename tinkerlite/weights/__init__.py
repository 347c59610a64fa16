"""Weight lifecycle utilities (cookbook ``tinker_cookbook.weights``): download, merge, convert, publish.

Two build paths, as in the cookbook:

- :func:`build_hf_model` — merge a LoRA adapter into a full HF model directory
- :func:`build_lora_adapter` — convert to PEFT format for serving with vLLM / SGLang (no merge)

Everything works without torch or transformers: safetensors files are written and read by
:mod:`tinkerlite.weights._safetensors` (standard library; numpy when present) and the merge math uses numpy
(the ``local`` or ``fast`` extra), imported only when a merge runs. Base models are read from a local
directory or the HF cache, never downloaded. Example::

    from tinkerlite import weights

    adapter_dir = weights.download(tinker_path="tinker://run-id/weights/final", output_dir="./adapter")
    weights.build_hf_model(base_model="./base", adapter_path=adapter_dir, output_path="./model")
"""

from tinkerlite.weights._adapter import build_lora_adapter
from tinkerlite.weights._download import download
from tinkerlite.weights._export import build_hf_model
from tinkerlite.weights._model_card import ModelCardConfig, generate_model_card
from tinkerlite.weights._publish import publish_to_hf_hub

__all__ = [
    "ModelCardConfig",
    "build_hf_model",
    "build_lora_adapter",
    "download",
    "generate_model_card",
    "publish_to_hf_hub",
]
