"""Library coverage vs cookbook 0.6.1: ``python -m tests.compat.library_coverage [-v]``.

The cookbook's public *library* modules are those :func:`tests.compat.sigdiff.cookbook_mapping` compares
(``*_test`` files, ``tests`` and ``test_*`` modules excluded there) minus ``tinker_cookbook.recipes`` (ported
separately, recipe by recipe). Each is in scope unless a prefix in :data:`OUT_OF_SCOPE` covers it, with
the reason from the cookbook map (docs/cookbook-map.md, "Tier C: out of scope" and the external
dependencies table). An in-scope module tinkerlite lacks must be listed in :data:`BLOCKED` with the reason;
``tests/compat/test_library_coverage.py`` checks both lists against the report so the figures cannot
silently regress. Counting reuses :func:`tests.compat.sigdiff.diff_package` (the signature diff's own
machinery), so "present" means importable under ``tinkerlite.X`` and a name counts when the module has it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from tests.compat.sigdiff import OfficialPackage, Report, cookbook_mapping, diff_package
from tests.official_env import official_source

#: Module prefix -> why tinkerlite does not port it (the cookbook map's reasons).
OUT_OF_SCOPE: dict[str, str] = {
    "tinker_cookbook.xmux": ("tmux sweep launcher on cloudpickle, pydantic and termcolor (cookbook map, Tier C: xmux)"),
    "tinker_cookbook.capture": (
        "request-capture proxy and store daemon, a separate service on httpx (cookbook map, Tier C: capture/ proxy)"
    ),
    "tinker_cookbook.inference": (
        "inference.modal: serving and comparing exported models on Modal GPUs (cookbook map, Tier C: Sandboxes "
        "and Modal, inference/modal)"
    ),
    "tinker_cookbook.third_party.litellm": (
        "a LiteLLM provider plugin: needs the litellm framework (cookbook map, Tier C: litellm)"
    ),
    "tinker_cookbook.scripts.inkling": (
        "Inkling sampling demos (audio, vision, reasoning) on the proprietary tml_renderers media code and "
        "torch>=2.10 (cookbook map, Tier C: tml_v0 / Inkling, multimodal)"
    ),
}

#: In-scope cookbook module -> why tinkerlite does not have it yet (empty: every in-scope module is present).
BLOCKED: dict[str, str] = {}


def out_of_scope_reason(module: str) -> str | None:
    for prefix, reason in OUT_OF_SCOPE.items():
        if module == prefix or module.startswith(prefix + "."):
            return reason
    return None


@dataclass
class Coverage:
    library: list[str]  # every public library module of the cookbook
    out_of_scope: dict[str, str]  # module -> reason
    in_scope: Report  # the signature diff's report over the in-scope modules

    @property
    def missing_in_scope(self) -> list[str]:
        return sorted(self.in_scope.modules_missing)

    def summary(self) -> str:
        rep = self.in_scope
        n_in = len(rep.modules_both) + len(rep.modules_missing)
        names_total = rep.names_covered + len(rep.names_missing)
        return (
            f"cookbook 0.6.1 library: {len(self.library)} public modules, {len(self.out_of_scope)} out of scope, "
            f"{n_in} in scope; in scope: modules {len(rep.modules_both)}/{n_in} present, "
            f"public names {rep.names_covered}/{names_total} present"
        )


def library_coverage() -> Coverage:
    pkg = OfficialPackage(official_source("cookbook"), "tinker_cookbook")
    mapping = {k: v for k, v in cookbook_mapping(pkg).items() if not k.startswith("tinker_cookbook.recipes")}
    excluded = {m: r for m in mapping if (r := out_of_scope_reason(m)) is not None}
    in_scope = {k: v for k, v in mapping.items() if k not in excluded}
    return Coverage(sorted(mapping), excluded, diff_package(pkg, in_scope))


def main(argv: list[str]) -> int:
    cov = library_coverage()
    print(cov.summary())
    for prefix, reason in OUT_OF_SCOPE.items():
        n = sum(1 for m in cov.out_of_scope if m == prefix or m.startswith(prefix + "."))
        print(f"  out of scope: {prefix} ({n} modules): {reason}")
    for m in cov.missing_in_scope:
        print(f"  missing in scope: {m}: {BLOCKED.get(m, 'NOT LISTED in BLOCKED')}")
    if "-v" in argv:
        for n in cov.in_scope.names_missing:
            print(f"  missing name {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
