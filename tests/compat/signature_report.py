"""Print signature-diff coverage figures: ``python -m tests.compat.signature_report [sdk|cookbook] [-v]``.

The integrator's view of the same data ``test_signatures.py`` asserts on: modules and public names present,
and every signature difference (``-v``), deliberate ones marked.
"""

from __future__ import annotations

import sys

from tests.compat.sigdiff import cookbook_report, sdk_report
from tests.official_env import official_source


def main(argv: list[str]) -> int:
    from tests.compat.test_signatures import DELIBERATE

    verbose = "-v" in argv
    which = [a for a in argv if not a.startswith("-")] or ["sdk", "cookbook"]
    for side in which:
        rep = sdk_report(official_source("sdk")) if side == "sdk" else cookbook_report(official_source("cookbook"))
        print(rep.summary(side))
        undeliberate = [d for d in rep.diffs if d.qualname not in DELIBERATE]
        print(f"  {len(rep.diffs) - len(undeliberate)} deliberate, {len(undeliberate)} unlisted")
        if verbose:
            for m in rep.modules_missing:
                print(f"  missing module {m}")
            for n in rep.names_missing:
                print(f"  missing name {n}")
            for d in rep.diffs:
                tag = "deliberate" if d.qualname in DELIBERATE else ("EXTENSION" if d.extension else "DIFF")
                print(f"  {tag} {d.qualname}: {d.message}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
