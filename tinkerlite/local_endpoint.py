"""Where a CLI job sends its requests: the given service, or an embedded local server for the job's duration.

With no ``base_url`` and no ``TINKER_BASE_URL`` the ``sl``/``rl``/... commands start
:func:`tinkerlite.local.serve` with the built-in tiny model, so the same command works offline, in CI
and on a laptop.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LOCAL_API_KEY", "endpoint"]

LOCAL_API_KEY = "tml-local-embedded"


@contextmanager
def endpoint(base_url: str | None) -> Iterator[tuple[str | None, str | None]]:
    """Yield (base_url, api_key): the given service, or an embedded local server for the run's duration."""
    if base_url or os.environ.get("TINKER_BASE_URL"):
        yield base_url, None
        return
    from .local import serve

    print("no base_url or TINKER_BASE_URL: starting an embedded local Tinker server (tinkerlite.local)")
    with serve(api_key=LOCAL_API_KEY) as url:
        print(f"local server at {url}")
        yield url, LOCAL_API_KEY
