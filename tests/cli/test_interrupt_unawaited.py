"""After Ctrl-C, coroutines the interrupt abandoned must not add "never awaited" warnings to the one-line
report (tests/cli/test_interrupt.py hit this when SIGINT landed between a submit and its scheduling)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc, sys
from tinkerlite.cli_errors import report_errors

async def work():
    pass

def body():
    global pending
    pending = work()  # submitted, never run: what an interrupted client leaves behind
    raise KeyboardInterrupt

code = report_errors("tool", body)
del pending
gc.collect()
sys.exit(code)
"""


def test_abandoned_coroutines_do_not_break_the_one_line_report() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 130, done.stderr
    assert [line for line in done.stderr.splitlines() if line.strip()] == ["tool: interrupted"], done.stderr
