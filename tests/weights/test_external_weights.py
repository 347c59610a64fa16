"""The local server's external weights (SDK 0.38): PEFT files, age encryption, signed URLs that need no API key."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")

import tinkerlite as tinker
from tinkerlite import types
from tinkerlite.local import serve
from tinkerlite.weights import _age as age
from tinkerlite.weights._safetensors import _decode

KEY = "tml-external"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[tinker.TrainingClient, tinker.RestClient, str]]:
    with serve(api_key=KEY, state_dir=str(tmp_path_factory.mktemp("state"))) as url:
        sc = tinker.ServiceClient(base_url=url, api_key=KEY)
        tc = sc.create_lora_training_client(base_model="tinkerlite/tiny-chat", rank=4).result(timeout=60)
        datum = types.Datum(
            model_input=types.ModelInput.from_ints(list(b"abc")), loss_fn_inputs={"target_tokens": list(b"bcd")}
        )
        tc.forward_backward([datum], "cross_entropy")
        tc.optim_step(types.AdamParams(learning_rate=1e-2)).result(timeout=60)
        rc = tinker.RestClient(base_url=url, api_key=KEY)
        yield tc, rc, url
        rc.close()
        sc.close()


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:  # no API key: the URL is signed
        return bytes(r.read())


def test_plain_export(trained: tuple[tinker.TrainingClient, tinker.RestClient, str]) -> None:
    tc, rc, _url = trained
    res = tc.save_weights_external("plain", ttl_seconds=3600).result(timeout=60)
    assert res.path.endswith("/external_weights/plain")
    urls = rc.get_external_weights_urls(res.path).result(timeout=60)
    assert sorted(urls.urls) == ["adapter_config.json", "adapter_model.safetensors"]
    config = json.loads(_fetch(urls.urls["adapter_config.json"]))
    assert (config["peft_type"], config["r"], config["base_model_name_or_path"]) == ("LORA", 4, "tinkerlite/tiny-chat")
    tensors, meta = _decode(_fetch(urls.urls["adapter_model.safetensors"]), "download")
    assert meta == {"format": "pt"}
    assert tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].shape == (4, 128)
    assert tensors["base_model.model.model.unembed_tokens.lora_B.weight"].shape == (512, 4)
    listed = rc.list_checkpoints(res.path.split("/")[2]).result(timeout=60).checkpoints
    assert any(c.checkpoint_type == "external" and c.tinker_path == res.path for c in listed)
    # A tampered signature is refused; an external checkpoint cannot be loaded as training state.
    with pytest.raises(urllib.error.HTTPError) as err:
        _fetch(urls.urls["adapter_config.json"].replace("sig=", "sig=0"))
    assert err.value.code == 403
    rc.delete_checkpoint_from_tinker_path(res.path).result(timeout=60)
    with pytest.raises(urllib.error.HTTPError) as err:
        _fetch(urls.urls["adapter_config.json"])
    assert err.value.code == 404


def test_encrypted_export(trained: tuple[tinker.TrainingClient, tinker.RestClient, str]) -> None:
    tc, rc, _url = trained
    ident = age.generate_identity()
    res = tc.save_weights_external("sealed", age_encryption_recipients=[age.recipient_of(ident)]).result(timeout=60)
    urls = rc.get_external_weights_urls(res.path).result(timeout=60).urls
    assert sorted(urls) == ["adapter_config.json.age", "adapter_model.safetensors.age"]
    config = json.loads(age.decrypt(_fetch(urls["adapter_config.json.age"]), ident))
    assert config["lora_alpha"] == 4


def test_bad_recipients_fail_the_request(trained: tuple[tinker.TrainingClient, tinker.RestClient, str]) -> None:
    tc, _, _ = trained
    with pytest.raises(Exception, match="SSH recipients are not supported"):
        tc.save_weights_external("ssh", age_encryption_recipients=["ssh-ed25519 AAAA"]).result(timeout=60)
    with pytest.raises(ValueError, match="only accepts external weights"):
        trained[1].get_external_weights_urls("tinker://run/weights/x")


def test_archive_url_sdk_0_25(trained: tuple[tinker.TrainingClient, tinker.RestClient, str]) -> None:
    """``GET .../checkpoints/<kind>/<name>/archive`` (SDK 0.25): a signed URL of a tar of the PEFT files."""
    import io
    import tarfile

    tc, _, url = trained
    path = tc.save_state("for-archive").result(timeout=60).path
    run, kind, name = path.removeprefix("tinker://").split("/")
    req = urllib.request.Request(
        f"{url}/api/v1/training_runs/{run}/checkpoints/{kind}/{name}/archive", headers={"X-API-Key": KEY}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        reply = json.loads(r.read())
    assert set(reply) == {"url", "expires"}
    with tarfile.open(fileobj=io.BytesIO(_fetch(reply["url"]))) as tar:
        assert sorted(tar.getnames()) == ["adapter_config.json", "adapter_model.safetensors"]
        member = tar.extractfile("adapter_config.json")
        assert member is not None
        config = json.loads(member.read())
    assert config["r"] == 4
    missing = urllib.request.Request(
        f"{url}/api/v1/training_runs/{run}/checkpoints/weights/nope/archive", headers={"X-API-Key": KEY}
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(missing, timeout=30)
    assert err.value.code == 404
