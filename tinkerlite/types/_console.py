"""Tinker console URLs (the ``get_console_url`` / ``get_playground_url`` helpers of SDK 0.38)."""

from __future__ import annotations

from urllib.parse import quote

CONSOLE_BASE_URL = "https://tinker.thinkingmachines.ai"


def sessions_url() -> str:
    return f"{CONSOLE_BASE_URL}/sessions"


def session_url(session_id: str) -> str:
    return f"{CONSOLE_BASE_URL}/sessions/{session_id}"


def training_run_url(training_run_id: str) -> str:
    return f"{CONSOLE_BASE_URL}/training_runs/{training_run_id}"


def checkpoint_url(training_run_id: str, checkpoint_id: str) -> str:
    return f"{CONSOLE_BASE_URL}/checkpoints/{quote(training_run_id, safe='')}/{quote(checkpoint_id, safe='')}"


def playground_url(tinker_path: str) -> str:
    return f"{CONSOLE_BASE_URL}/playground?mode=checkpoint&checkpoint={quote(tinker_path, safe='')}"


def checkpoint_url_from_path(tinker_path: str) -> str:
    """The console page of ``tinker://<run>/<kind>/<name>`` (``<kind>/<name>`` is the checkpoint id)."""
    rest = tinker_path.removeprefix("tinker://")
    run, _, checkpoint_id = rest.partition("/")
    return checkpoint_url(run, checkpoint_id)
