"""tinkerlite.third_party.tml_renderers_compat: the cookbook's own tml_renderers_compat_test (imports rewritten)
runs against tinkerlite in a throwaway venv with tml-renderers 0.2.1 (the newest on PyPI; its
``tml_renderers.chat`` has every constructor the module uses) plus torch and Pillow, which that wheel and the
test import; without tml_renderers the module's functions raise the error that says what to install."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.official_env import ensure_venv
from tests.third_party.cookbook_tests import run_cookbook_test
from tinkerlite.tokenizer_utils import TmlRenderersUnavailableError

TML_VENV = "tml-renderers-0.2.1"
TML_REQUIREMENTS = ["tml-renderers==0.2.1", "torch==2.13.0", "numpy", "pillow", "pytest>=8"]

#: cookbook test id -> why it does not pass against tinkerlite (empty: all pass).
EXPECTED_FAILURES: dict[str, str] = {}


def _tml_python() -> str:
    try:
        return str(ensure_venv(TML_VENV, TML_REQUIREMENTS))
    except (OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"cannot create the venv {TML_VENV!r} ({TML_REQUIREMENTS}): {exc}")
        pytest.skip(f"cannot create the venv {TML_VENV!r} ({TML_REQUIREMENTS}; pip install failed: {exc})")
    raise AssertionError("unreachable")  # pragma: no cover


@pytest.mark.slow  # its venv's first build installs torch (minutes on a fresh machine)
@pytest.mark.network_registry
def test_cookbook_tml_renderers_compat_test(tmp_path: Path) -> None:
    outcomes = run_cookbook_test("third_party/tml_renderers_compat_test.py", tmp_path, python=_tml_python())
    bad = {k: v for k, v in outcomes.items() if v != "passed"}
    assert bad == dict.fromkeys(EXPECTED_FAILURES, "failed"), bad
    assert len(outcomes) >= 20, outcomes


def test_without_tml_renderers_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    if importlib.util.find_spec("tml_renderers") is not None:
        pytest.skip("tml_renderers is installed here; the missing-package path cannot be exercised")
    monkeypatch.delenv("TML_RENDERERS_SOURCE_DIR", raising=False)
    from tinkerlite.third_party import tml_renderers_compat as compat

    with pytest.raises(TmlRenderersUnavailableError, match="tml-renderers"):
        compat.tinker_messages_to_message_list([{"role": "user", "content": "hi"}])
