"""DPO in ~40 lines: a comparison file, the renderer, the trainer, against the embedded local server.

    python examples/dpo_basic.py [comparisons.jsonl]

Without an argument it writes the generated letter-case preference task to a temp dir first. Point
``TINKER_BASE_URL``/``TINKER_API_KEY`` at a real service (and change the model/renderer) to run remotely.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tinkerlite.client.service_client import ServiceClient
from tinkerlite.local_endpoint import endpoint
from tinkerlite.preference.comparisons import write_comparison_file
from tinkerlite.preference.dpo_datasets import ComparisonFileBuilder, DPODatasetBuilderFromComparisons
from tinkerlite.preference.synthetic import make_case_preference_set
from tinkerlite.preference.train_dpo import Config, run
from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="dpo-basic-"))
    path = (
        sys.argv[1] if len(sys.argv) > 1 else write_comparison_file(work / "cmp.jsonl", make_case_preference_set(400))
    )
    builder = DPODatasetBuilderFromComparisons(
        common_config=ChatDatasetBuilderCommonConfig(
            model_name_for_tokenizer="tinkerlite/tiny-chat", renderer_name="role_colon", max_length=512, batch_size=16
        ),
        comparison_builder=ComparisonFileBuilder(str(path), test_size=64),
        tie_policy="skip",  # ties carry no preference; they are dropped and counted (num_ties_skipped)
    )
    with endpoint(None) as (base_url, api_key):
        service = ServiceClient(base_url=base_url, api_key=api_key)
        try:
            config = Config(
                log_path=str(work / "run"),
                model_name="tinkerlite/tiny-chat",
                dataset_builder=builder,
                learning_rate=2e-3,  # tiny model; the cookbook's 1e-5 is for real LoRA fine-tunes
                dpo_beta=0.1,
                lora_rank=8,
                eval_every=5,
                max_steps=20,
            )
            summary = run(config, service_client=service)
        finally:
            service.close()
    print(
        f"held-out DPO accuracy {summary['test/accuracy']:.3f}, policy preference accuracy "
        f"{summary['test/pref_accuracy']:.3f}; metrics in {work / 'run' / 'metrics.jsonl'}"
    )


if __name__ == "__main__":
    main()
