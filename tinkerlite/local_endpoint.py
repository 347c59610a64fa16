"""Where a CLI job sends its requests: the given service, or an embedded local server for the job's duration.

With no ``base_url`` and no ``TINKER_BASE_URL`` the ``sl``/``rl``/... commands start
:func:`tinkerlite.local.serve` with the built-in tiny model, so the same command works offline, in CI
and on a laptop. The embedded server keeps its state (training runs, optimizer state, checkpoints) in
``<log_path>/server``, next to the ``checkpoints.jsonl`` that names them: a killed or interrupted run
resumes from its last checkpoint when rerun with the same ``log_path``, and the ``tinker://`` paths it
printed stay valid for ``tinkerlite serve --state-dir <log_path>/server``. Deleting ``log_path`` deletes
both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LOCAL_API_KEY", "SERVER_STATE_DIRNAME", "endpoint", "server_state_dir"]

LOCAL_API_KEY = "tml-local-embedded"
SERVER_STATE_DIRNAME = "server"


def server_state_dir(log_path: str) -> str:
    """The embedded server's state directory for a run logged under ``log_path``."""
    return os.path.join(log_path, SERVER_STATE_DIRNAME)


@contextmanager
def endpoint(
    base_url: str | None, log_path: str | None = None, api_key: str | None = None
) -> Iterator[tuple[str | None, str | None]]:
    """Yield (base_url, api_key): the given service, or an embedded local server for the run's duration.

    ``log_path`` given: the embedded server's state lives in ``<log_path>/server`` and survives the
    process; None: a temporary directory removed on exit (nothing to resume from).
    """
    if base_url or os.environ.get("TINKER_BASE_URL"):
        yield base_url, api_key
        return
    from ._optional import require

    # Before anything else: without numpy the server could start but every training request would fail.
    require("numpy", "the embedded local server (used when no base_url is given)", extra="local")
    from .local import serve

    state_dir = server_state_dir(log_path) if log_path is not None else None
    print("no base_url or TINKER_BASE_URL: starting an embedded local Tinker server (tinkerlite.local)")
    with serve(api_key=LOCAL_API_KEY, state_dir=state_dir) as url:
        where = f"; state in {state_dir}" if state_dir else ""
        print(f"local server at {url}{where}")
        yield url, LOCAL_API_KEY
