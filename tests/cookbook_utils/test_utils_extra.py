"""utils.file_utils, utils.format_colorized, utils.deprecation (the cookbook's small utility modules)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from tinkerlite.tokenizers import get_tokenizer
from tinkerlite.utils import deprecation as dep
from tinkerlite.utils.file_utils import read_jsonl
from tinkerlite.utils.format_colorized import format_colorized


def test_read_jsonl_is_strict(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps({"a": 1}) + "\n" + json.dumps({"b": 2}) + "\n")
    assert read_jsonl(str(p)) == [{"a": 1}, {"b": 2}]
    p.write_text('{"a": 1}\n{"torn\n')
    with pytest.raises(json.JSONDecodeError):
        read_jsonl(str(p))


def test_format_colorized(monkeypatch: pytest.MonkeyPatch) -> None:
    tok = get_tokenizer("tinkerlite/tiny-chat")
    ids = tok.encode("ab\ncd", add_special_tokens=False)
    weights = [1.0] * 2 + [0.0] * (len(ids) - 2)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = format_colorized(ids, weights, tok, draw_newline_arrow=True)
    assert out.startswith("\033[32m") and "↵\n" in out and "\033[33m" in out
    assert format_colorized(ids[:1], [-1.0], tok).startswith("\033[31m")
    monkeypatch.setenv("NO_COLOR", "1")
    assert format_colorized(ids, weights, tok) == "ab\ncd"
    with pytest.raises(ValueError, match="same length"):
        format_colorized(ids, [1.0], tok)


def test_deprecation_warns_then_refuses_past_removal() -> None:
    @dep.deprecated(message="Use g().", removal_version="99.0")
    def f(x: int) -> int:
        return x + 1

    with pytest.warns(DeprecationWarning, match="'Function .*f' is deprecated. It will be removed in version 99.0"):
        assert f(1) == 2

    @dep.deprecated
    class Old:
        def __init__(self, v: int) -> None:
            self.v = v

    with pytest.warns(DeprecationWarning, match="Class .*Old"):
        assert Old(3).v == 3
    with pytest.raises(RuntimeError, match=r"should have been removed by 0\.5\.0"):
        dep.warn_deprecated("x", removal_version="0.5.0")  # the mirrored cookbook release is 0.6.1
    getattr_ = dep.make_deprecated_module_getattr("m", {"OldJoin": ("os.path.join", None), "Bad": ("nodots", None)})
    with pytest.warns(DeprecationWarning, match=r"Use os\.path\.join instead"):
        assert getattr_("OldJoin") is __import__("os").path.join
    with pytest.raises(AttributeError):
        getattr_("missing")
    with warnings.catch_warnings(), pytest.raises(ValueError, match="dotted path"):
        getattr_("Bad")
