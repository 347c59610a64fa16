"""Files shipped next to the package: in a wheel under ``tinkerlite/``, in a checkout at the repo top level."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent
# wheel location (force-included by pyproject) -> source-checkout location
_LOCATIONS = {
    "example_data": (_PKG / "example_data", _PKG.parent / "examples" / "data"),
    "vendor_configs": (_PKG / "vendor_configs", _PKG.parent / "vendor_configs"),
}


def resource_dir(kind: str) -> Path:
    """The directory holding ``kind`` files; raises FileNotFoundError naming both places looked in."""
    for candidate in _LOCATIONS[kind]:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{kind} not found in {' or '.join(str(c) for c in _LOCATIONS[kind])}")


def example_data_path(name: str) -> Path:
    path = resource_dir("example_data") / name
    if not path.is_file():
        raise FileNotFoundError(f"bundled example data {name!r} not found at {path}")
    return path
