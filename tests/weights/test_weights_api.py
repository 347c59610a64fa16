"""tinkerlite.weights against cookbook 0.6.1: same public names and signatures; merge, adapter, card, errors.

The cookbook's own modules import torch/transformers/huggingface_hub, so its signatures are read from the
pinned sdist with ``ast`` rather than imported.
"""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import pytest

from tinkerlite import weights
from tinkerlite.exceptions import ConfigurationError, WeightsAdapterError, WeightsDownloadError, WeightsMergeError
from tinkerlite.weights._safetensors import RawTensor, load_raw, save_raw

_COOKBOOK_FILES = {
    "build_hf_model": "_export/__init__.py",
    "build_lora_adapter": "_adapter.py",
    "download": "_download.py",
    "generate_model_card": "_model_card.py",
    "publish_to_hf_hub": "_publish.py",
}


def _cookbook_weights() -> Path:
    from tests.official_env import official_source

    return official_source("cookbook") / "tinker_cookbook" / "weights"


def _ast_signature(fn: ast.FunctionDef) -> list[tuple[str, str, str | None]]:
    a = fn.args
    out: list[tuple[str, str, str | None]] = []
    pos = a.posonlyargs + a.args
    defaults = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
    out += [(p.arg, "POSITIONAL_OR_KEYWORD", ast.unparse(d) if d else None) for p, d in zip(pos, defaults, strict=True)]
    out += [
        (p.arg, "KEYWORD_ONLY", ast.unparse(d) if d else None) for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)
    ]
    return out


def _our_signature(fn: object) -> list[tuple[str, str, str | None]]:
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    return [
        (p.name, p.kind.name, None if p.default is inspect.Parameter.empty else repr(p.default))
        for p in sig.parameters.values()
    ]


@pytest.mark.network_registry
def test_public_surface_matches_the_cookbook() -> None:
    root = _cookbook_weights()
    tree = ast.parse((root / "__init__.py").read_text())
    all_names = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "__all__"
    )
    assert weights.__all__ == all_names
    for name, rel in _COOKBOOK_FILES.items():
        mod = ast.parse((root / rel).read_text())
        fn = next(n for n in mod.body if isinstance(n, ast.FunctionDef) and n.name == name)
        assert _our_signature(getattr(weights, name)) == _ast_signature(fn), name
        assert not inspect.iscoroutinefunction(getattr(weights, name))
    card = ast.parse((root / "_model_card.py").read_text())
    cls = next(n for n in card.body if isinstance(n, ast.ClassDef) and n.name == "ModelCardConfig")
    fields = [n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
    assert list(weights.ModelCardConfig.__dataclass_fields__) == fields
    # Same private module names too, so `from tinker_cookbook.weights._download import download` ports.
    for rel in _COOKBOOK_FILES.values():
        modname = "tinkerlite.weights." + rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        __import__(modname)


def _tiny_model(tmp_path: Path, *, lm_head: bool = True, model_type: str = "llama") -> Path:
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(0)
    d = tmp_path / "base"
    d.mkdir()
    tensors = {
        "model.embed_tokens.weight": rng.standard_normal((10, 4)).astype(np.float32),
        "model.layers.0.self_attn.q_proj.weight": rng.standard_normal((4, 4)).astype(np.float32),
        "model.layers.0.mlp.up_proj.weight": RawTensor.from_numpy(rng.standard_normal((6, 4)), dtype="BF16"),
    }
    if lm_head:
        tensors["lm_head.weight"] = rng.standard_normal((10, 4)).astype(np.float32)
    save_raw(tensors, d / "model.safetensors")
    (d / "config.json").write_text(json.dumps({"model_type": model_type, "hidden_size": 4}))
    (d / "tokenizer_config.json").write_text("{}")
    return d


def _adapter(tmp_path: Path, names: dict[str, tuple[int, int]], rank: int = 2, alpha: int = 4) -> Path:
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(1)
    d = tmp_path / "adapter"
    d.mkdir()
    tensors = {}
    for module, (out_dim, in_dim) in names.items():
        tensors[f"base_model.model.{module}.lora_A.weight"] = rng.standard_normal((rank, in_dim)).astype(np.float32)
        tensors[f"base_model.model.{module}.lora_B.weight"] = rng.standard_normal((out_dim, rank)).astype(np.float32)
    save_raw(tensors, d / "adapter_model.safetensors")
    (d / "adapter_config.json").write_text(json.dumps({"r": rank, "lora_alpha": alpha}))
    return d


def test_merge_math_names_and_dtypes(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    base = _tiny_model(tmp_path)
    adapter = _adapter(
        tmp_path,
        {
            "model.layers.0.self_attn.q_proj": (4, 4),
            "model.unembed_tokens": (10, 4),
            "model.layers.0.mlp.up_proj": (6, 4),
        },
    )
    out = tmp_path / "out"
    weights.build_hf_model(base_model=str(base), adapter_path=str(adapter), output_path=str(out))
    before, after = load_raw(base / "model.safetensors")[0], load_raw(out / "model.safetensors")[0]
    ad = load_raw(adapter / "adapter_model.safetensors")[0]
    a = ad["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].to_numpy()
    b = ad["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"].to_numpy()
    q = "model.layers.0.self_attn.q_proj.weight"
    np.testing.assert_allclose(after[q].to_numpy(), before[q].to_numpy() + 2.0 * (b @ a), rtol=1e-6)  # alpha/r = 2
    # unembed_tokens goes to lm_head when the model has one; the input embedding is untouched.
    assert after["model.embed_tokens.weight"].data == before["model.embed_tokens.weight"].data
    assert after["lm_head.weight"].data != before["lm_head.weight"].data
    assert after["model.layers.0.mlp.up_proj.weight"].dtype == "BF16"  # the shard path keeps on-disk dtypes
    assert (out / "tokenizer_config.json").is_file() and (out / "config.json").is_file()


def test_tied_model_merges_unembed_into_the_embedding(tmp_path: Path) -> None:
    base = _tiny_model(tmp_path, lm_head=False)
    adapter = _adapter(tmp_path, {"model.unembed_tokens": (10, 4)})
    out = tmp_path / "out"
    weights.build_hf_model(
        base_model=str(base), adapter_path=str(adapter), output_path=str(out), merge_strategy="full", dtype="float16"
    )
    merged = load_raw(out / "model.safetensors")[0]
    assert merged["model.embed_tokens.weight"].dtype == "F16"
    assert json.loads((out / "config.json").read_text())["torch_dtype"] == "float16"


def test_merge_errors_are_clear(tmp_path: Path) -> None:
    base = _tiny_model(tmp_path)
    adapter = _adapter(tmp_path, {"model.layers.0.self_attn.zz_proj": (4, 4)})
    with pytest.raises(WeightsMergeError, match=r"zz_proj.*does not exist"):
        weights.build_hf_model(base_model=str(base), adapter_path=str(adapter), output_path=str(tmp_path / "o1"))
    assert not (tmp_path / "o1").exists()  # nothing half-written
    bad = tmp_path / "bad"
    bad.mkdir()
    save_raw(load_raw(adapter / "adapter_model.safetensors")[0], bad / "adapter_model.safetensors")
    (bad / "adapter_config.json").write_text(json.dumps({"r": 2}))
    with pytest.raises(WeightsMergeError, match="lora_alpha"):
        weights.build_hf_model(base_model=str(base), adapter_path=str(bad), output_path=str(tmp_path / "o2"))
    (tmp_path / "w").mkdir()
    wrong = _adapter(tmp_path / "w", {"model.layers.0.self_attn.q_proj": (5, 4)})
    with pytest.raises(WeightsMergeError, match="Shape mismatch"):
        weights.build_hf_model(base_model=str(base), adapter_path=str(wrong), output_path=str(tmp_path / "o3"))
    with pytest.raises(FileExistsError):
        weights.build_hf_model(base_model=str(base), adapter_path=str(adapter), output_path=str(base))
    with pytest.raises(FileNotFoundError, match=r"adapter_model\.safetensors"):
        weights.build_hf_model(base_model=str(base), adapter_path=str(tmp_path), output_path=str(tmp_path / "o4"))
    with pytest.raises(FileNotFoundError, match="export_base_model"):
        weights.build_hf_model(
            base_model="acme/not-cached", adapter_path=str(adapter), output_path=str(tmp_path / "o5")
        )
    with pytest.raises(ConfigurationError, match="dtype"):
        weights.build_hf_model(base_model=str(base), adapter_path=str(adapter), output_path="x", dtype="int8")
    with pytest.raises(ConfigurationError, match="torch"):
        weights.build_hf_model(
            base_model=str(base),
            adapter_path=str(adapter),
            output_path="x",
            quantize="experts-fp8",
            serving_format="vllm",
        )
    with pytest.raises(NotImplementedError, match="dequantize"):
        weights.build_hf_model(base_model=str(base), adapter_path=str(adapter), output_path="x", dequantize=True)


def test_build_lora_adapter_peft_names(tmp_path: Path) -> None:
    base = _tiny_model(tmp_path)
    adapter = _adapter(tmp_path, {"model.layers.0.self_attn.q_proj": (4, 4), "model.unembed_tokens": (10, 4)})
    out = tmp_path / "peft"
    weights.build_lora_adapter(base_model=str(base), adapter_path=str(adapter), output_path=str(out))
    tensors = load_raw(out / "adapter_model.safetensors")[0]
    assert sorted(tensors) == sorted(
        [
            "base_model.model.lm_head.lora_A.weight",
            "base_model.model.lm_head.lora_B.weight",
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
            "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
        ]
    )
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["target_modules"] == ["lm_head", "q_proj"]
    assert (config["r"], config["lora_alpha"], config["base_model_name_or_path"]) == (2, 4, str(base))
    (tmp_path / "ds").mkdir()
    ds = _tiny_model(tmp_path / "ds", model_type="deepseek_v3")
    with pytest.raises(WeightsAdapterError, match="deepseek_v3"):
        weights.build_lora_adapter(base_model=str(ds), adapter_path=str(adapter), output_path=str(tmp_path / "p2"))


def test_model_card(tmp_path: Path) -> None:
    cfg = weights.ModelCardConfig(base_model="Qwen/Qwen3-8B", datasets=["me/data"], tags=["sft"], license="apache-2.0")
    merged = weights.generate_model_card(config=cfg, repo_id="me/model")
    text = str(merged)
    assert text.startswith("---\nbase_model: Qwen/Qwen3-8B\nlibrary_name: transformers\n")
    assert "- tinker\n- tinker-cookbook\n- sft\n" in text and "license: apache-2.0" in text
    assert "# me/model" in text and "Merged model" in text
    (tmp_path / "adapter_config.json").write_text("{}")
    card = weights.generate_model_card(config=cfg, model_path=str(tmp_path))
    assert card.data["library_name"] == "peft" and card.data["tags"][2:4] == ["peft", "lora"]
    card.save(tmp_path / "README.md")
    assert (tmp_path / "README.md").read_text() == card.content


def test_publish_and_download_errors(tmp_path: Path) -> None:
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="huggingface_hub"):
            weights.publish_to_hf_hub(model_path=str(tmp_path), repo_id="me/model")
    with pytest.raises(FileNotFoundError):
        weights.publish_to_hf_hub(model_path=str(tmp_path / "missing"), repo_id="me/model")
    with pytest.raises(WeightsDownloadError, match="Sampler checkpoints cannot be downloaded"):
        weights.download(tinker_path="tinker://run/sampler_weights/x", output_dir=str(tmp_path))
    with pytest.raises(WeightsDownloadError, match="Invalid tinker path"):
        weights.download(tinker_path="s3://nope", output_dir=str(tmp_path))


def test_without_numpy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Merging says which extra brings numpy; safetensors and the PEFT conversion need none."""
    base = _tiny_model(tmp_path)
    adapter = _adapter(tmp_path, {"model.layers.0.self_attn.q_proj": (4, 4)})
    monkeypatch.setitem(__import__("sys").modules, "numpy", None)  # makes `import numpy` fail
    from tinkerlite.errors import MissingExtraError

    with pytest.raises(MissingExtraError, match=r"tinkerlite\[local\].*|fast"):
        weights.build_hf_model(base_model=str(base), adapter_path=str(adapter), output_path=str(tmp_path / "m"))
    weights.build_lora_adapter(base_model=str(base), adapter_path=str(adapter), output_path=str(tmp_path / "peft"))
    tensors, _ = load_raw(tmp_path / "peft" / "adapter_model.safetensors")
    assert tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].shape == (2, 4)
    assert len(tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].tolist()) == 8
