"""``tinkerlite view``: a run viewer and checkpoint playground in the browser, standard library only.

Layers, so each can be tested without a socket: :mod:`.runs` reads cookbook-format run directories
(streaming, memory bounded, tolerant of a half-written last line), :mod:`.examples` renders training
examples token by token, :mod:`.playground` samples from a run's checkpoints through tinkerlite's own
client, :mod:`.server` is the HTTP layer over them, :mod:`.snapshot` writes a static copy, :mod:`.cli`
is the command. The page itself (``static/``) is hand-written HTML/CSS/JS shipped as package data.
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str]) -> int:
    """Entry point of ``tinkerlite view`` (see :mod:`tinkerlite.view.cli`)."""
    from .cli import main as cli_main

    return cli_main(argv)
