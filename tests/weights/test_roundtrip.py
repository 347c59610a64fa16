"""Weights round trip: train a LoRA on the local server, download it, merge, export, reload, same logits.

The proof of issue 17's weights item: the merged safetensors export, read back without torch and run by
a plain numpy forward pass (:func:`tinkerlite.local.hf_format.forward_logits`), scores every target token
exactly as the server's trained model does (float32 tolerance), while the unmerged base does not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

np = pytest.importorskip("numpy", reason="the local server and the merge need numpy (the 'local' extra)")

import tinkerlite as tinker  # noqa: E402
from tinkerlite import types, weights  # noqa: E402
from tinkerlite.local import serve  # noqa: E402
from tinkerlite.local.hf_format import export_base_model, forward_logits  # noqa: E402
from tinkerlite.weights._safetensors import load_file, read_header  # noqa: E402

KEY = "tml-weights-test"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, tinker.ServiceClient]]:
    with serve(api_key=KEY, state_dir=str(tmp_path_factory.mktemp("state"))) as url:
        sc = tinker.ServiceClient(base_url=url, api_key=KEY)
        yield url, sc
        sc.close()


def _datum(tokens: list[int]) -> types.Datum:
    return types.Datum(
        model_input=types.ModelInput.from_ints(tokens[:-1]),
        loss_fn_inputs={"target_tokens": tokens[1:], "weights": [1.0] * (len(tokens) - 1)},
    )


def _train(sc: tinker.ServiceClient, base_model: str, data: list[types.Datum], rank: int) -> tinker.TrainingClient:
    tc = sc.create_lora_training_client(base_model=base_model, rank=rank, seed=3).result(timeout=120)
    for _ in range(4):
        tc.forward_backward(data, "cross_entropy")
        tc.optim_step(types.AdamParams(learning_rate=2e-2)).result(timeout=120)
    return tc


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _base_dir(base_model: str, out: Path) -> Path:
    return export_base_model(base_model, out)


def _roundtrip(
    service: tuple[str, tinker.ServiceClient],
    tmp_path: Path,
    base_model: str,
    tokens: list[list[int]],
    rank: int,
    **build: str,
) -> None:
    url, sc = service
    data = [_datum(t) for t in tokens]
    tc = _train(sc, base_model, data, rank)
    server = tc.forward(data, "cross_entropy").result(timeout=120)
    path = tc.save_state("final").result(timeout=120).path

    adapter = tmp_path / "adapter"
    import os

    os.environ["TINKER_API_KEY"] = KEY
    try:
        assert weights.download(tinker_path=path, output_dir=str(adapter), base_url=url) == str(adapter)
    finally:
        del os.environ["TINKER_API_KEY"]
    assert sorted(p.name for p in adapter.iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    assert (cfg["r"], cfg["lora_alpha"], cfg["base_model_name_or_path"]) == (rank, rank, base_model)
    # The temporary export was deleted again; the training checkpoint stays.
    rc = tinker.RestClient(base_url=url, api_key=KEY)
    kinds = {c.checkpoint_type for c in rc.list_checkpoints(path.split("/")[2]).result(timeout=60).checkpoints}
    assert "external" not in kinds

    base_dir = _base_dir(base_model, tmp_path / "base")
    merged = tmp_path / "merged"
    weights.build_hf_model(base_model=str(base_dir), adapter_path=str(adapter), output_path=str(merged), **build)
    assert {"config.json", "model.safetensors"} <= {p.name for p in merged.iterdir()}
    assert read_header(merged / "model.safetensors")["lm_head.weight"]["dtype"] == "F32"

    merged_w = load_file(merged / "model.safetensors")
    base_w = load_file(base_dir / "model.safetensors")
    config = json.loads((merged / "config.json").read_text())
    for datum, out in zip(tokens, server.loss_fn_outputs, strict=True):
        want = np.asarray(out["logprobs"].data, dtype=np.float32)
        targets = np.asarray(datum[1:])
        got = _log_softmax(forward_logits(merged_w, config, datum[:-1]))[np.arange(len(targets)), targets]
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-4)
        untrained = _log_softmax(forward_logits(base_w, config, datum[:-1]))[np.arange(len(targets)), targets]
        assert np.max(np.abs(untrained - want)) > 1e-2  # the adapter changed the model: the check can fail


def test_roundtrip_builtin_model(service: tuple[str, tinker.ServiceClient], tmp_path: Path) -> None:
    tokens = [list(b"hello world, hello tinker"), list(b"tiny models learn quickly")]
    _roundtrip(service, tmp_path, "tinkerlite/tiny-chat", tokens, rank=8, merge_strategy="shard")


def test_roundtrip_full_strategy_float32(service: tuple[str, tinker.ServiceClient], tmp_path: Path) -> None:
    tokens = [list(b"merge me fully"), list(b"in float32")]
    _roundtrip(service, tmp_path, "tinkerlite/tiny-chat", tokens, rank=4, merge_strategy="full", dtype="float32")


def test_roundtrip_large_vocab_stand_in(service: tuple[str, tinker.ServiceClient], tmp_path: Path) -> None:
    """A real model name: Qwen3's 151,936-row vocabulary, unembedding adapter included."""
    tokens = [[9707, 1879, 151645, 151643, 151935, 11, 12], [151644, 872, 198, 9707, 151645]]
    _roundtrip(service, tmp_path, "Qwen/Qwen3-8B", tokens, rank=2, merge_strategy="auto")
