"""Deprecated CLI over :func:`tinkerlite.weights.build_hf_model`: merge a downloaded Tinker LoRA adapter into
an HF model directory and save the merged model (safetensors, no torch needed)::

    python -m tinkerlite.scripts.merge_tinker_adapter_to_hf_model --hf-model <name_or_path> \\
        --tinker-adapter-path <adapter_dir> --output-path <out_dir>
"""

from __future__ import annotations

import argparse
import warnings

from tinkerlite.scripts._cli import run_script
from tinkerlite.weights import build_hf_model

__all__ = ["main"]


def main() -> None:
    warnings.warn(
        "This script is deprecated. Use tinkerlite.weights.build_hf_model() instead:\n\n"
        "    from tinkerlite import weights\n"
        "    weights.build_hf_model(\n"
        "        base_model='...', adapter_path='...', output_path='...'\n"
        "    )\n",
        DeprecationWarning,
        stacklevel=2,
    )
    parser = argparse.ArgumentParser(description="Merge Tinker LoRA adapter weights into a HuggingFace model.")
    parser.add_argument("--tinker-adapter-path", type=str, required=True, help="Path to the Tinker adapter")
    parser.add_argument("--hf-model", type=str, required=True, help="HuggingFace model name or path")
    parser.add_argument("--output-path", type=str, required=True, help="Path to save the merged model")
    parser.add_argument(
        "--quantize",
        type=str,
        default=None,
        choices=["experts-fp8"],
        help="Output quantization method (e.g. 'experts-fp8' for FP8 routed experts)",
    )
    parser.add_argument(
        "--serving-format",
        type=str,
        default=None,
        choices=["vllm"],
        help="Serving framework format for quantization metadata (e.g. 'vllm')",
    )
    args = parser.parse_args()
    run_script(
        "merge_tinker_adapter_to_hf_model",
        lambda: build_hf_model(
            base_model=args.hf_model,
            adapter_path=args.tinker_adapter_path,
            output_path=args.output_path,
            quantize=args.quantize,
            serving_format=args.serving_format,
        ),
    )


if __name__ == "__main__":
    main()
