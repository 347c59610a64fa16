"""tinkerlite.model_info against the official tinker-cookbook 0.6.1 model_info outcomes."""

from __future__ import annotations

import logging

import pytest

from tinkerlite import model_info as mi
from tinkerlite.errors import ValidationError
from tinkerlite.vendor_configs_loader import UnknownModelError, known_model_names

from ._goldens import check_outcome, goldens, official_models


def _as_dict(a: mi.ModelAttributes) -> dict[str, object]:
    return {
        "organization": a.organization,
        "version_str": a.version_str,
        "size_str": a.size_str,
        "is_chat": a.is_chat,
        "recommended_renderers": list(a.recommended_renderers),
        "is_vl": a.is_vl,
        "is_audio_in": a.is_audio_in,
    }


@pytest.mark.parametrize("model", official_models())
def test_attributes_match_cookbook(model: str) -> None:
    rec = goldens()["models"][model]
    assert _as_dict(mi.get_model_attributes(model)) == rec["model_attributes"]["value"]
    assert mi.get_recommended_renderer_names(model) == rec["recommended_renderer_names"]["value"]
    assert mi.get_recommended_renderer_name(model) == rec["recommended_renderer_names"]["value"][0]


def test_other_ids_match_cookbook() -> None:
    for model, rec in goldens()["other_ids"].items():
        expected = rec["model_attributes"]
        if "value" in expected:
            assert _as_dict(mi.get_model_attributes(model)) == expected["value"], model
        else:
            check_outcome(expected, mi.get_model_attributes, model)


def test_org_tables_cover_the_lineup() -> None:
    tables = {
        "meta-llama": mi.get_llama_info(),
        "Qwen": mi.get_qwen_info(),
        "deepseek-ai": mi.get_deepseek_info(),
        "openai": mi.get_gpt_oss_info(),
        "moonshotai": mi.get_moonshot_info(),
        "zai-org": mi.get_zai_info(),
        "nvidia": mi.get_nvidia_info(),
        "thinkingmachines": mi.get_thinkingmachines_info(),
        "tinkerlite": mi.get_tinkerlite_info(),
    }
    listed = sorted(f"{org}/{name}" for org, table in tables.items() for name in table)
    assert listed == sorted(known_model_names())
    assert "Qwen3-8B" in tables["Qwen"] and "Llama-3.2-1B" in tables["meta-llama"]
    tables["Qwen"].clear()  # callers get copies
    assert "Qwen3-8B" in mi.get_qwen_info()


def test_unknown_model_error_is_value_and_key_error_and_lists_known() -> None:
    with pytest.raises(UnknownModelError) as info:
        mi.get_model_attributes("Qwen/Qwen9-1T")
    err = info.value
    assert isinstance(err, ValidationError) and isinstance(err, ValueError) and isinstance(err, KeyError)
    assert "Qwen/Qwen9-1T" in str(err) and "Qwen/Qwen3-8B" in str(err) and "tinkerlite/tiny-chat" in str(err)
    assert not str(err).startswith(("'", '"'))  # KeyError's repr-quoting is undone


def test_name_without_org_is_rejected() -> None:
    with pytest.raises(ValueError, match="org/model"):
        mi.get_model_attributes("Qwen3-8B")


def test_local_model_is_listed() -> None:
    attrs = mi.get_model_attributes("tinkerlite/tiny-chat")
    assert attrs.organization == "tinkerlite" and attrs.recommended_renderers


def test_renderer_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tinkerlite.model_info"):
        mi.warn_if_renderer_not_recommended("Qwen/Qwen3-8B", "qwen3")
        mi.warn_if_renderer_not_recommended("Qwen/Qwen3-8B", None)
        mi.warn_if_renderer_not_recommended("acme/unknown", "llama3")
        assert not caplog.records
        mi.warn_if_renderer_not_recommended("Qwen/Qwen3-8B", "llama3")
    assert len(caplog.records) == 1 and "'qwen3'" in caplog.records[0].getMessage()
