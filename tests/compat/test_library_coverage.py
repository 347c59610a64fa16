"""The library coverage figures (``tests.compat.library_coverage``) hold: every in-scope cookbook 0.6.1
library module tinkerlite lacks is listed in BLOCKED, every listed one is really missing, every
OUT_OF_SCOPE prefix still names cookbook modules tinkerlite does not have, and in-scope names are all present."""

from __future__ import annotations

import pytest

from tests.compat.library_coverage import BLOCKED, OUT_OF_SCOPE, library_coverage

pytestmark = pytest.mark.network_registry


def test_missing_in_scope_modules_are_exactly_the_blocked_list() -> None:
    cov = library_coverage()
    print(cov.summary())
    assert cov.missing_in_scope == sorted(BLOCKED), (
        f"unlisted: {sorted(set(cov.missing_in_scope) - set(BLOCKED))}; "
        f"listed but present: {sorted(set(BLOCKED) - set(cov.missing_in_scope))}"
    )
    assert not [m for m in BLOCKED if m in cov.out_of_scope], "a BLOCKED module is also out of scope"
    rep = cov.in_scope
    assert len(rep.modules_both) + len(rep.modules_missing) + len(cov.out_of_scope) == len(cov.library)
    present_names_missing = [n for n in rep.names_missing if n.split(":")[0] not in BLOCKED]
    assert not present_names_missing, present_names_missing


def _ours(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("tinkerlite" + module[len("tinker_cookbook") :]) is not None
    except ImportError:  # a parent package is missing
        return False


def test_out_of_scope_entries_are_live() -> None:
    cov = library_coverage()
    for prefix in OUT_OF_SCOPE:
        covered = [m for m in cov.out_of_scope if m == prefix or m.startswith(prefix + ".")]
        assert covered, f"OUT_OF_SCOPE {prefix!r} names no cookbook 0.6.1 library module"
        ported = [m for m in covered if _ours(m)]
        assert not ported, f"{prefix!r} is listed out of scope but tinkerlite has {ported}: count it in scope"
