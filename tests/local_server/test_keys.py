"""The key never leaks: not in the banner, argv, any file a run writes, a pickle, the access log or an
error answer. Each test uses a distinctive key and greps everything it wrote for it."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from tinkerlite.local.auth import KeyRing, load_keys_file
from tinkerlite.utils.ml_log import MetricsLogger, dump_config

from ._guard import Client, serve_proc

KEY = "tml-DISTINCTIVE-7f3a9c2e51b84d06"


def _no_key_under(root: Path, key: str = KEY) -> list[str]:
    """Every file under ``root`` that contains ``key`` (should be none)."""
    hits = []
    for p in root.rglob("*"):
        if p.is_file() and key.encode() in p.read_bytes():
            hits.append(str(p))
    return hits


def test_key_from_env_never_echoed_and_not_in_argv(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    state = tmp_path / "state"
    args = ["--state-dir", str(state), "--access-log", str(log)]
    with serve_proc(args, env={"TINKER_API_KEY": KEY}) as srv:
        assert KEY not in srv.banner
        assert "from $TINKER_API_KEY" in srv.banner and f"{len(KEY)} characters" in srv.banner
        with open(f"/proc/{srv.pid}/cmdline", "rb") as f:
            assert KEY.encode() not in f.read()  # argv-free startup
        with open(f"/proc/{srv.pid}/environ", "rb") as f:
            assert KEY.encode() in f.read()  # the key is really in use, from the environment
        # No key, a wrong key (that contains ours), the right one; a query string carrying the key.
        assert Client(srv.url).post("create_session", {})[0] == 401
        status, body = Client(srv.url, KEY + "-wrong").post("create_session", {})
        assert status == 403 and KEY not in str(body)
        c = Client(srv.url, KEY)
        sid = c.session()
        mid = c.model(sid)
        assert c.call("GET", f"training_runs?token={KEY}")[0] == 200
        status, body = c.call("GET", "training_runs/nope:train:0")
        assert status == 404 and KEY not in str(body)
        c.ok("save_weights", {"model_id": mid, "seq_id": 1, "path": "k1"})
        c.close()
        out = srv.stop()
    assert KEY not in out
    lines = log.read_text().splitlines()
    assert lines and all(KEY not in line for line in lines)
    assert any(" POST " in ln and "/api/v1/create_model 200 " in ln and f"run={mid}" in ln for ln in lines), lines
    assert any(" 401 " in ln for ln in lines) and any(" 403 " in ln for ln in lines)
    assert any("/api/v1/training_runs 200" in ln for ln in lines)  # query string dropped
    assert _no_key_under(tmp_path) == []


def test_api_key_file_and_the_visible_flag_warns(tmp_path: Path) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY + "\n")
    with serve_proc(["--api-key-file", str(key_file)], env={"TINKER_API_KEY": ""}) as srv:
        assert KEY not in srv.banner and "--api-key-file" in srv.banner
        c = Client(srv.url, KEY)
        assert c.session()
        c.close()
        assert KEY not in srv.stop()
    with serve_proc(["--api-key", KEY], env={"TINKER_API_KEY": ""}) as srv:
        assert KEY not in srv.banner
        assert "visible to every local user in /proc/<pid>/cmdline" in srv.banner
        srv.stop()


def test_bad_keys_file_is_one_line_without_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "keys.txt"
    bad.write_text(f"alice:{KEY}\nbob\n")
    with pytest.raises(ValueError, match="line 2") as e:
        load_keys_file(bad)
    assert KEY not in str(e.value)
    same = tmp_path / "same.json"
    same.write_text(f'{{"alice": "{KEY}", "bob": "{KEY}"}}')
    with pytest.raises(ValueError, match="share one key") as e2:
        KeyRing(load_keys_file(same))
    assert KEY not in str(e2.value) and KEY not in repr(KeyRing({"alice": KEY}))


def test_config_json_and_wandb_view_redact_secrets(tmp_path: Path) -> None:
    from tests.supervised_e2e.helpers import small_config

    cfg = small_config(tmp_path / "log", tmp_path / "data.jsonl", "http://127.0.0.1:9", api_key=KEY)
    MetricsLogger(tmp_path / "log").log_hparams(cfg)
    assert _no_key_under(tmp_path) == []
    assert '"api_key": "<redacted>"' in (tmp_path / "log" / "config.json").read_text()
    assert dump_config({"nested": {"hf_token": KEY, "max_tokens": 5}}) == {
        "nested": {"hf_token": "<redacted>", "max_tokens": 5}
    }


def test_sft_run_writes_no_key_anywhere(tmp_path: Path) -> None:
    from tests.supervised_e2e.helpers import small_config, write_small_dataset
    from tinkerlite.supervised.train import run

    data = write_small_dataset(tmp_path / "data.jsonl", 16)
    state = tmp_path / "state"
    with serve_proc(
        ["--state-dir", str(state), "--access-log", str(tmp_path / "access.log")], env={"TINKER_API_KEY": KEY}
    ) as srv:
        cfg = small_config(tmp_path / "log", data, srv.url, api_key=KEY, max_steps=2, save_every=1, test_size=4)
        run(cfg)
        out = srv.stop()
    assert KEY not in out
    assert (tmp_path / "log" / "config.json").exists()
    assert _no_key_under(tmp_path) == []


def test_pickled_sampling_client_carries_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import tinkerlite
    from tinkerlite.local import serve

    monkeypatch.delenv("TINKER_API_KEY", raising=False)
    with serve(api_key=KEY) as url:
        sc = tinkerlite.ServiceClient(base_url=url, api_key=KEY)
        samp = sc.create_sampling_client(base_model="tinkerlite/tiny-chat")
        blob = pickle.dumps(samp)
        assert KEY.encode() not in blob
        monkeypatch.setenv("TINKER_API_KEY", KEY)  # the unpickling process's own credential
        clone = pickle.loads(blob)
        out = clone.sample(
            tinkerlite.types.ModelInput.from_ints([1, 2]), 1, tinkerlite.types.SamplingParams(max_tokens=2)
        )
        assert len(out.result(timeout=60).sequences) == 1
        clone.holder.shutdown()
        sc.holder.shutdown()
    assert os.environ.get("TINKER_API_KEY") == KEY


def test_keys_file_banner_names_users_not_keys(tmp_path: Path) -> None:
    other = "tml-OTHER-USER-KEY-99aa77bb"
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# team keys\nalice:{KEY}\nbob:{other}\n")
    with serve_proc(["--keys-file", str(keys)], env={"TINKER_API_KEY": ""}) as srv:
        assert KEY not in srv.banner and other not in srv.banner and "users: alice, bob" in srv.banner
        alice, bob = Client(srv.url, KEY), Client(srv.url, other)
        mid = alice.model(alice.session())
        assert bob.call("GET", f"training_runs/{mid}")[0] == 404
        assert alice.call("GET", f"training_runs/{mid}")[0] == 200
        assert Client(srv.url, "tml-not-a-user-key-0").post("create_session", {})[0] == 403
        alice.close()
        bob.close()
        out = srv.stop()
    assert KEY not in out and other not in out
