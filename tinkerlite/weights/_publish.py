"""Publish a model or adapter directory to the HuggingFace Hub (needs the optional ``huggingface_hub``)."""

from __future__ import annotations

import logging
from pathlib import Path

from ._model_card import ModelCardConfig, generate_model_card

__all__ = ["publish_to_hf_hub"]

logger = logging.getLogger(__name__)


def publish_to_hf_hub(
    *,
    model_path: str,
    repo_id: str,
    private: bool = True,
    token: str | None = None,
    model_card: ModelCardConfig | None = None,
) -> str:
    """Push ``model_path`` to ``repo_id`` (private by default); returns the repository URL.

    A ``model_card`` writes ``README.md`` first unless the directory already has one. Uploading needs the
    ``huggingface_hub`` package (``pip install huggingface_hub``); tinkerlite does not depend on it.
    """
    path = Path(model_path)
    if not path.is_dir():
        raise FileNotFoundError(f"model_path does not exist or is not a directory: {model_path}")
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise ImportError(
            "publish_to_hf_hub needs the optional package 'huggingface_hub' (pip install huggingface_hub); "
            "tinkerlite itself never uploads"
        ) from None
    if model_card is not None:
        readme = path / "README.md"
        if readme.exists():
            logger.warning("model_path already contains README.md; skipping model card generation.")
        else:
            generate_model_card(config=model_card, repo_id=repo_id, model_path=model_path).save(readme)
    api = HfApi(token=token)
    api.create_repo(repo_id=repo_id, repo_type="model", private=private, exist_ok=True)
    api.upload_folder(folder_path=str(path), repo_id=repo_id, repo_type="model")
    return f"https://huggingface.co/{repo_id}"
