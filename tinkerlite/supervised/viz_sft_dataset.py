"""Show a supervised dataset's first batch in the terminal, trained tokens in green
(the cookbook's ``supervised.viz_sft_dataset``): ``python -m tinkerlite.supervised.viz_sft_dataset
dataset_path=module:Builder model_name=...``."""

from __future__ import annotations

import sys

from .. import model_info
from ..renderers import TrainOnWhat
from ..tokenizer_utils import get_tokenizer
from ..utils.config import configclass, field
from ..utils.format_colorized import format_colorized
from ..utils.misc_utils import lookup_func
from .types import ChatDatasetBuilderCommonConfig, SupervisedDatasetBuilder

__all__ = ["Config", "run"]


@configclass
class Config:
    model_name: str = field(default="meta-llama/Llama-3.1-8B", doc="just for the tokenizer")
    dataset_path: str = "Tulu3Builder"
    renderer_name: str | None = None
    max_length: int | None = None
    train_on_what: TrainOnWhat | None = None


def run(cfg: Config) -> None:
    """Print each datum of batch 0 coloured by its loss weights, waiting for Enter between them."""
    n_examples_total = 100
    common_config = ChatDatasetBuilderCommonConfig(
        model_name_for_tokenizer=cfg.model_name,
        renderer_name=cfg.renderer_name or model_info.get_recommended_renderer_name(cfg.model_name),
        max_length=cfg.max_length,
        batch_size=n_examples_total,
        train_on_what=cfg.train_on_what,
    )
    dataset_builder = lookup_func(cfg.dataset_path, default_module="tinkerlite.recipes.chat_sl.chat_datasets")(
        common_config=common_config
    )
    if not isinstance(dataset_builder, SupervisedDatasetBuilder):
        raise TypeError(f"{cfg.dataset_path} did not build a SupervisedDatasetBuilder")
    tokenizer = get_tokenizer(cfg.model_name)
    train_dataset, _ = dataset_builder()
    for datum in train_dataset.get_batch(0):
        tokens = [*datum.model_input.to_ints(), datum.loss_fn_inputs["target_tokens"].tolist()[-1]]
        weights = [0.0, *datum.loss_fn_inputs["weights"].tolist()]
        print(format_colorized(tokens, weights, tokenizer))
        input("press enter")


if __name__ == "__main__":
    from ..utils.config import _load_chz

    chz = _load_chz()
    if chz is None:
        sys.exit("viz_sft_dataset's command line needs chz: pip install 'tinkerlite[chz]'")
    chz.nested_entrypoint(run)
