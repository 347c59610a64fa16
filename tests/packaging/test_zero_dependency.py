"""`import tinkerlite` and every pure module work in a venv with nothing installed."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import tinkerlite
    assert tinkerlite.ModelInput.from_ints([1]).length == 1
    broken = []
    for m in pkgutil.walk_packages(tinkerlite.__path__, "tinkerlite."):
        try:
            importlib.import_module(m.name)
        except ImportError as e:
            # Modules behind an extra must say which extra to install.
            if "pip install 'tinkerlite[" not in str(e):
                broken.append(f"{m.name}: ImportError without an extra hint: {e}")
        except Exception as e:
            broken.append(f"{m.name}: {type(e).__name__}: {e}")
    third = sorted({n.split('.')[0] for n in sys.modules} - set(sys.stdlib_module_names)
                   - {"tinkerlite", "__main__", "_distutils_hack"})
    print("THIRD", third)
    print("BROKEN", broken)
    """
)


@pytest.mark.slow
def test_import_in_empty_venv(tmp_path: Path) -> None:
    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    out = subprocess.run(
        [str(py), "-c", PROBE],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "THIRD []" in out.stdout, out.stdout
    assert "BROKEN []" in out.stdout, out.stdout


def test_plain_import_pulls_no_optional_module() -> None:
    code = (
        "import sys, tinkerlite, tinkerlite.types, tinkerlite.backend, tinkerlite.codec.json_codec;"
        "print(sorted(m for m in ('numpy','orjson','tokenizers','zstandard','torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
