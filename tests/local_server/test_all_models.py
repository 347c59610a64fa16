"""Every vendor-config model is served: a tiny stand-in with its family's vocabulary, EOS ids and tokenizer id.

Over loopback HTTP with the tinkerlite client: the capability list is exactly the vendor configs; a LoRA on
a sample of real names (five families, the largest vocabulary among them) trains, samples, and stops on
the family's EOS id; an unknown name is a 400 that lists the served names. Against the pinned registry
tokenizers (tests.testdata), the EOS ids are the ids those tokens really have.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import tinkerlite as tinker
from tinkerlite import types
from tinkerlite.local import serve
from tinkerlite.local.base_models import FAMILIES, default_registry, family_for_model
from tinkerlite.local.service import LocalService
from tinkerlite.local.store import Store
from tinkerlite.vendor_configs_loader import load_all

from ._helpers import post

KEY = "tml-all-models"
# (model, family): a dense and a MoE Qwen3.5 (248,320 rows, the largest vocabulary served with public data),
# Kimi, an unpublished DeepSeek, Llama 3, gpt-oss and Nemotron.
SAMPLE = (
    ("Qwen/Qwen3.5-9B", "qwen3_5"),
    ("moonshotai/Kimi-K2.6", "kimi_k2"),
    ("deepseek-ai/DeepSeek-V4.1-Flash", "deepseek_v4"),
    ("meta-llama/Llama-3.2-1B", "llama3"),
    ("openai/gpt-oss-20b", "gpt_oss"),
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, tinker.ServiceClient]]:
    with serve(api_key=KEY, state_dir=str(tmp_path_factory.mktemp("state"))) as url:
        sc = tinker.ServiceClient(base_url=url, api_key=KEY)
        yield url, sc
        sc.close()


def test_capabilities_list_every_vendor_config(served: tuple[str, tinker.ServiceClient]) -> None:
    _, sc = served
    caps = sc.get_server_capabilities()
    names = [m.model_name for m in caps.supported_models]
    assert sorted(names) == sorted(load_all()) and len(names) == len(set(names)) == len(load_all())
    for m in caps.supported_models:
        assert m.trainable is True and m.sampleable is True and m.max_context_length == 2048


def test_registry_specs_follow_the_vendor_configs() -> None:
    registry = default_registry()
    for name, vc in load_all().items():
        spec = registry[name]
        family = family_for_model(name)
        assert spec.family == family.name and spec.eos_token_ids == family.eos_token_ids
        assert spec.tokenizer_id == (name if name != "tinkerlite/tiny-chat" else "tinkerlite/byte-chat")
        published = vc.config.get("vocab_size")
        if published is not None:
            assert spec.vocab_size == published
        counts = vc.lora_params_per_rank
        if counts is not None and published is not None:
            # The rule used for unpublished configs (unembed LoRA count = hidden + vocab) holds where both are known.
            assert counts["unembed"] - vc.hidden_size == published
        assert all(0 <= t < spec.vocab_size for t in spec.eos_token_ids)
        assert spec.vocab_size == vc.vocab_size
    assert registry["deepseek-ai/DeepSeek-V4.1-Flash"].vocab_size == 129_280  # derived: 134,400 - 5,120
    assert registry["zai-org/GLM-5.3"].vocab_size == 154_880
    # Stand-ins of one family still differ (per-name seeds).
    assert len({s.seed for s in registry.values()}) == len(registry)
    assert FAMILIES["kimi_k3"].assumed and not FAMILIES["kimi_k2"].assumed


def test_weights_are_built_on_first_use_only(tmp_path: object) -> None:
    pytest.importorskip("numpy")
    service = LocalService(Store(str(tmp_path)))
    try:
        assert len(service.registry) == len(load_all()) and not service._base_weights
        spec = service.spec_for("Qwen/Qwen3.5-9B")
        model = service._new_model(spec, None)
        assert list(service._base_weights) == ["Qwen/Qwen3.5-9B"]
        size = sum(int(a.nbytes) for a in model.base.values())
        assert model.config.vocab_size == 248_320 and size < 80 * 2**20  # a 248k vocabulary in < 80 MiB
    finally:
        service.close()


@pytest.mark.parametrize(("model", "family"), SAMPLE)
def test_train_and_sample_a_real_name(served: tuple[str, tinker.ServiceClient], model: str, family: str) -> None:
    pytest.importorskip("numpy")
    _, sc = served
    eos = FAMILIES[family].eos_token_ids[0]
    tc = sc.create_lora_training_client(base_model=model, rank=4, seed=0).result(timeout=120)
    info = tc.get_info()
    assert info.model_data.model_name == model and info.model_data.tokenizer_id == model
    prompt = [11, 2024, 7, 999]
    datum = types.Datum(
        model_input=types.ModelInput.from_ints(prompt),
        loss_fn_inputs={"target_tokens": [*prompt[1:], eos], "weights": [0.0, 0.0, 0.0, 1.0]},
    )
    losses = []
    for _ in range(12):
        fb = tc.forward_backward([datum], "cross_entropy")
        tc.optim_step(types.AdamParams(learning_rate=5e-2)).result(timeout=120)
        losses.append(fb.result(timeout=120).metrics["loss:sum"])
    assert losses[-1] < losses[0] * 0.5, losses
    sampler = tc.save_weights_and_get_sampling_client().result(timeout=120)
    params = types.SamplingParams(max_tokens=6, temperature=0.0)  # no stop given: the family's EOS ids apply
    res = sampler.sample(types.ModelInput.from_ints(prompt), 1, params).result(timeout=120)
    seq = res.sequences[0]
    assert seq.tokens == [eos] and seq.stop_reason == "stop"


def test_suffixed_name_is_the_base_model(served: tuple[str, tinker.ServiceClient]) -> None:
    _, sc = served
    tc = sc.create_lora_training_client(base_model="Qwen/Qwen3-8B:peft:131072", rank=2).result(timeout=120)
    assert tc.get_info().model_data.model_name == "Qwen/Qwen3-8B"


def test_unknown_model_is_a_clear_400(served: tuple[str, tinker.ServiceClient]) -> None:
    url, sc = served
    session = post(
        url, "create_session", {"tags": [], "user_metadata": {}, "sdk_version": "test"}, **{"X-API-Key": KEY}
    )
    sid = session.json()["session_id"]
    reply = post(
        url,
        "create_model",
        {"session_id": sid, "model_seq_id": 0, "base_model": "acme/NoSuchModel-7B", "lora_config": {"rank": 4}},
        **{"X-API-Key": KEY},
    )
    assert reply.status == 400, reply.body
    detail = json.loads(reply.body)["detail"]
    assert "acme/NoSuchModel-7B" in detail and "Qwen/Qwen3.5-9B" in detail and "moonshotai/Kimi-K2.6" in detail
    with pytest.raises(Exception, match="NoSuchModel") as err:
        sc.create_lora_training_client(base_model="acme/NoSuchModel-7B", rank=4).result(timeout=60)
    assert "500" not in str(err.value)


# The EOS tokens each family's stand-in stops on, by name, checked against the real tokenizer files.
_EOS_NAMES = {
    "qwen3": ("Qwen/Qwen3-8B", ("<|im_end|>", "<|endoftext|>")),
    "llama3": ("meta-llama/Llama-3.1-8B-Instruct", ("<|eot_id|>", "<|end_of_text|>", "<|eom_id|>")),
    "deepseek_v3": ("deepseek-ai/DeepSeek-V3.1", ("<｜end▁of▁sentence｜>",)),
    "kimi_k2": ("moonshotai/Kimi-K2.6", ("<|im_end|>", "[EOS]")),
    "gpt_oss": ("openai/gpt-oss-20b", ("<|return|>", "<|call|>")),
}


@pytest.mark.network_registry
@pytest.mark.parametrize("family", sorted(_EOS_NAMES))
def test_eos_ids_are_the_real_tokenizers(family: str) -> None:
    from tests.testdata import need, tokenizer_dir
    from tinkerlite.tokenizers import load_tokenizer

    model, eos_names = _EOS_NAMES[family]
    tok = load_tokenizer(need(tokenizer_dir, family))
    spec = default_registry()[model]
    assert tuple(tok.token_to_id(name) for name in eos_names) == spec.eos_token_ids
    assert tok.vocab_size <= spec.vocab_size  # every real id fits the stand-in's embedding


@pytest.mark.network_registry
def test_a_real_name_trains_offline_from_the_hf_cache(
    served: tuple[str, tinker.ServiceClient], tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a recipe does: the tokenizer comes from the HF cache (offline), the renderer from the model name."""
    import shutil
    from pathlib import Path

    from tests.testdata import need, tokenizer_dir
    from tinkerlite import renderers
    from tinkerlite.supervised.data import conversation_to_datum
    from tinkerlite.tokenizers.loader import clear_cache

    pytest.importorskip("numpy")
    commit = "0" * 40
    snap = Path(str(tmp_path)) / "hub" / "models--Qwen--Qwen3-8B" / "snapshots" / commit
    snap.mkdir(parents=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(need(tokenizer_dir, "qwen3") / name, snap / name)
    (snap.parent.parent / "refs").mkdir()
    (snap.parent.parent / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(snap.parent.parent.parent))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    clear_cache()
    try:
        _, sc = served
        tc = sc.create_lora_training_client(base_model="Qwen/Qwen3-8B", rank=4).result(timeout=120)
        tokenizer = tc.get_tokenizer()
        renderer = renderers.get_renderer("qwen3", tokenizer)
        convo = [{"role": "user", "content": "What color is snow?"}, {"role": "assistant", "content": "White."}]
        datum = conversation_to_datum(convo, renderer, max_length=128)
        assert FAMILIES["qwen3"].eos_token_ids[0] in datum.loss_fn_inputs["target_tokens"].tolist()
        first = last = 0.0
        for step in range(8):
            fb = tc.forward_backward([datum], "cross_entropy")
            tc.optim_step(types.AdamParams(learning_rate=2e-2)).result(timeout=120)
            loss = fb.result(timeout=120).metrics["loss:sum"]
            first, last = (loss, loss) if step == 0 else (first, loss)
        assert last < first * 0.7
    finally:
        clear_cache()
