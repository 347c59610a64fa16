"""What a supervised recipe trains on: datasets of batches of Datums, and builders that make them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..renderers import TrainOnWhat  # runtime: chz blueprints resolve field annotations
from ..types import Datum
from ..utils.config import configclass

if TYPE_CHECKING:  # pragma: no cover
    from ..renderers import Renderer
    from ..tokenizers.base import Tokenizer

__all__ = [
    "ChatDatasetBuilder",
    "ChatDatasetBuilderCommonConfig",
    "SupervisedDataset",
    "SupervisedDatasetBuilder",
]

logger = logging.getLogger(__name__)


class SupervisedDataset:
    """``get_batch(i)`` for ``i < len(self)``; ``set_epoch(seed)`` reshuffles between epochs."""

    def get_batch(self, index: int) -> list[Datum]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def set_epoch(self, seed: int = 0) -> None:
        logger.warning("set_epoch called, but %s does not shuffle", type(self).__name__)


@configclass
class SupervisedDatasetBuilder:
    """A config class (chz when installed, see :mod:`tinkerlite.utils.config`) that builds ``(train, test | None)``."""

    def __call__(self) -> tuple[SupervisedDataset, SupervisedDataset | None]:
        raise NotImplementedError


@configclass
class ChatDatasetBuilderCommonConfig:
    """Tokenizer, renderer, length and batch settings shared by every chat dataset builder."""

    model_name_for_tokenizer: str
    renderer_name: str
    max_length: int | None
    batch_size: int
    train_on_what: TrainOnWhat | str | None = None


@configclass
class ChatDatasetBuilder(SupervisedDatasetBuilder):
    """A builder that renders message lists with ``common_config``'s renderer; subclasses add sources."""

    common_config: ChatDatasetBuilderCommonConfig

    def __call__(self) -> tuple[SupervisedDataset, SupervisedDataset | None]:
        raise NotImplementedError

    @property
    def tokenizer(self) -> Tokenizer:
        from ..tokenizers import get_tokenizer

        return get_tokenizer(self.common_config.model_name_for_tokenizer)

    @property
    def renderer(self) -> Renderer:
        from ..renderers import get_renderer

        return get_renderer(self.common_config.renderer_name, self.tokenizer)
