"""The ``auto`` backend's rule: HF for batches and long texts, the pure backend for single short encodes --
only where the pure backend loads the file and gives HF's ids on the probe texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.renderers.tokenizers_for_tests import family_dir
from tests.testdata import need
from tinkerlite.tokenizers import load_tokenizer, loaded, loader

pytest.importorskip("tokenizers")

TEXTS = ["Hello world", "naïve café 中文 😀", "<|im_start|>user\nhi<|im_end|>", "x = [1, 2, 3]  # ok\n\n", ""]


@pytest.fixture
def qwen3_dir() -> Path:
    d: Path = need(family_dir, "qwen3")
    return d


def test_auto_pairs_the_pure_backend_and_keeps_hf_ids(qwen3_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(loader.BACKEND_ENV, raising=False)
    loader.clear_cache()
    auto = load_tokenizer(qwen3_dir)
    hf = load_tokenizer(qwen3_dir, backend="hf")
    assert auto.backend == "hf" and auto.short_encode_backend == "pure"  # type: ignore[attr-defined]
    assert hf.short_encode_backend is None  # type: ignore[attr-defined]
    # Its new pieces go to HF's compiled BPE model (the pure pipeline splits and caches around it).
    assert auto._short._model.word_encoder is not None  # type: ignore[attr-defined]
    for text in TEXTS:
        for split in (False, True):
            assert auto.encode(text, split_special_tokens=split) == hf.encode(text, split_special_tokens=split)
    assert auto.encode_batch(TEXTS) == hf.encode_batch(TEXTS)


def test_short_texts_go_to_pure_long_ones_and_batches_to_hf(qwen3_dir: Path) -> None:
    loader.clear_cache()
    tok = load_tokenizer(qwen3_dir, backend="auto")
    calls: list[str] = []
    short, inner = tok._short, tok._inner  # type: ignore[attr-defined]

    class Spy:
        def __init__(self, name: str, target: object) -> None:
            self.name, self.target = name, target

        def encode(self, *a: object, **k: object) -> object:
            calls.append(self.name)
            return self.target.encode(*a, **k)  # type: ignore[attr-defined]

        def encode_batch(self, *a: object, **k: object) -> object:
            calls.append(self.name + " batch")
            return self.target.encode_batch(*a, **k)  # type: ignore[attr-defined]

    tok._short, tok._inner = Spy("pure", short), Spy("hf", inner)  # type: ignore[attr-defined]
    tok.encode("a body of a chat message that is longer than the memo")  # > 64 chars: not memoised
    tok.encode("y" * (loaded.SHORT_ENCODE_MAX_CHARS + 1))
    tok.encode_batch(["a", "b"])
    assert calls == ["pure", "hf", "hf batch"]


def test_a_pure_backend_that_disagrees_is_not_used(qwen3_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loader.clear_cache()
    monkeypatch.setattr(loader, "_PROBES", ("Hello world", "\u00e9"))
    real = loader._pure_module().PureTokenizer.from_file

    def wrong(path: Path) -> object:
        pure = real(path)
        original = pure.encode
        pure.encode = lambda text, **k: [*original(text, **k), 0] if text == "\u00e9" else original(text, **k)
        return pure

    monkeypatch.setattr(loader._pure_module().PureTokenizer, "from_file", staticmethod(wrong))
    tok = load_tokenizer(qwen3_dir, backend="auto")
    assert tok.short_encode_backend is None  # type: ignore[attr-defined]
    loader.clear_cache()
