"""Renderer metadata on checkpoints: recorded at training time, read back to pick the renderer later."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tinkerlite import checkpoint_utils as cu

pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")

import tinkerlite
import tinkerlite.local
from tinkerlite.model_info import get_recommended_renderer_name


@pytest.fixture(scope="module")
def saved() -> Iterator[tuple[str, str, str]]:
    """(base_url, path of a run tagged with renderer 'llama3', path of an untagged run)."""
    with tinkerlite.local.serve(long_poll_s=5.0, api_key="tml-local") as url:
        sc = tinkerlite.ServiceClient(base_url=url, api_key="tml-local")
        meta: dict[str, str] = {}
        cu.add_renderer_name_to_user_metadata(meta, "llama3")
        cu.add_renderer_name_to_user_metadata(meta, None)  # None leaves it alone
        assert meta == {"renderer_name": "llama3"}
        tagged = sc.create_lora_training_client("tinkerlite/tiny-chat", rank=4, user_metadata=meta).result()
        plain = sc.create_lora_training_client("tinkerlite/tiny-chat", rank=4).result()
        p1 = tagged.save_weights_for_sampler("a").result().path
        p2 = plain.save_weights_for_sampler("b").result().path
        yield url, p1, p2
        sc.close()


def test_precedence_explicit_then_checkpoint_then_model(
    saved: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, tagged, plain = saved
    monkeypatch.setenv("TINKER_API_KEY", "tml-local")
    kw = {"model_name": "Qwen/Qwen3-8B", "base_url": url}
    assert cu.resolve_renderer_name_from_checkpoint_or_default(
        explicit_renderer_name="role_colon", load_checkpoint_path=tagged, **kw
    ) == "role_colon"
    assert cu.resolve_renderer_name_from_checkpoint_or_default(
        explicit_renderer_name=None, load_checkpoint_path=tagged, **kw
    ) == "llama3"
    recommended = get_recommended_renderer_name("Qwen/Qwen3-8B")
    assert cu.resolve_renderer_name_from_checkpoint_or_default(
        explicit_renderer_name=None, load_checkpoint_path=plain, **kw
    ) == recommended
    assert cu.resolve_renderer_name_from_checkpoint_or_default(
        explicit_renderer_name=None, load_checkpoint_path=None, **kw
    ) == recommended
    got = asyncio.run(cu.resolve_renderer_name_from_checkpoint_or_default_async(
        explicit_renderer_name=None, load_checkpoint_path=tagged, **kw
    ))
    assert got == "llama3"


def test_unreadable_checkpoint_falls_back_with_warning(
    saved: tuple[str, str, str], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, _ = saved
    monkeypatch.setenv("TINKER_API_KEY", "tml-local")
    sc = tinkerlite.ServiceClient(base_url=url, api_key="tml-local")
    with caplog.at_level(logging.WARNING):
        assert cu.get_renderer_name_from_checkpoint(sc, "not-a-tinker-path") is None
        assert asyncio.run(cu.get_renderer_name_from_checkpoint_async(sc, "tinker://no-such-run/weights/x")) is None
    assert caplog.text.count("Could not fetch renderer metadata") == 2
    sc.close()


def test_check_renderer_name_logs_mismatch(
    saved: tuple[str, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    url, tagged, plain = saved
    sc = tinkerlite.ServiceClient(base_url=url, api_key="tml-local")
    with caplog.at_level(logging.INFO, logger="tinkerlite.checkpoint_utils"):
        assert cu.check_renderer_name_for_checkpoint(sc, tagged, None) is None
        assert caplog.text == ""
        cu.check_renderer_name_for_checkpoint(sc, tagged, "qwen3")
        asyncio.run(cu.check_renderer_name_for_checkpoint_async(sc, tagged, "llama3"))
        cu.check_renderer_name_for_checkpoint(sc, plain, "llama3")
    assert "Renderer mismatch" in caplog.text and "checkpoint=llama3 current=qwen3" in caplog.text
    assert "Renderer metadata matches" in caplog.text
    assert "has no renderer metadata" in caplog.text
    sc.close()


def test_save_checkpoint_writes_to_a_store_when_given(saved: tuple[str, str, str], tmp_path: Path) -> None:
    url, _, _ = saved
    sc = tinkerlite.ServiceClient(base_url=url, api_key="tml-local")
    tc = sc.create_lora_training_client("tinkerlite/tiny-chat", rank=4).result()

    class Store:
        def __init__(self) -> None:
            self.records: list[dict[str, object]] = []

        def write_checkpoint(self, record: dict[str, object]) -> None:
            self.records.append(record)

    store = Store()
    paths = cu.save_checkpoint(tc, "s1", str(tmp_path), {"batch": 3}, kind="both", store=store)
    assert set(paths) == {"state_path", "sampler_path"}
    assert store.records == [{"name": "s1", "batch": 3, **paths}]
    assert not (tmp_path / cu.CHECKPOINTS_BASE_NAME).exists()
    asyncio.run(cu.save_checkpoint_async(tc, "s2", str(tmp_path), {"batch": 4}))
    assert [r.name for r in cu.load_checkpoints_file(str(tmp_path))] == ["s2"]
    sc.close()
