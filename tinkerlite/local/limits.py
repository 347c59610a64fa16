"""Every resource limit of the local server in one record, with a safe default each.

The server trusts no client with its memory, threads or CPU: each limit here is enforced where the
resource is spent, and a request that passes one gets a 4xx whose message names the limit (the field
name below, which is also the ``tinkerlite serve --<name>`` flag), so an operator knows what to raise.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .http_types import HTTPError

__all__ = [
    "LimitError",
    "ServerLimits",
    "add_limit_args",
    "check_sample_cost",
    "configure_service",
    "limits_from_args",
    "sample_cost",
]


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class ServerLimits:
    """Limits of one server; ``tinkerlite serve --help`` lists them with these texts."""

    header_timeout_s: float = _f(
        10.0, "seconds to receive a request's line and headers (from connect, or from its first byte)"
    )
    idle_timeout_s: float = _f(120.0, "seconds a keep-alive connection may sit idle between requests")
    body_timeout_s: float = _f(60.0, "seconds to receive a request body once its headers arrived")
    max_header_bytes: int = _f(64 * 1024, "bytes of request line plus headers (431 beyond)")
    max_body_bytes: int = _f(64 * 1024 * 1024, "bytes of one request body, and of a zstd body once decompressed (413)")
    max_inflight_body_bytes: int = _f(
        512 * 1024 * 1024, "bytes of request bodies held at once, all clients together (429)"
    )
    max_connections: int = _f(2048, "open connections; beyond it the longest-waiting idle one is closed")
    max_workers: int = _f(128, "threads that handle requests (long polls included); stalled connections use none")
    max_queued_requests: int = _f(1024, "complete requests waiting for a handler thread (503 beyond)")
    max_sample_tokens: int = _f(65536, "num_samples x max new tokens (+ scored prompt tokens) of one asample (400)")
    max_queued_samples_per_user: int = _f(4096, "sampling requests one user may have waiting to run (429)")
    session_timeout_s: float = _f(
        300.0, "a session with no heartbeat or request for this long expires (its models unload)"
    )
    max_sessions: int = _f(10_000, "live sessions, all users together (429)")
    max_sessions_per_user: int = _f(5_000, "live sessions of one user (429)")
    finished_session_retention_s: float = _f(600.0, "seconds a finished or expired session stays visible")
    result_ttl_s: float = _f(600.0, "seconds a completed request's result can still be polled")
    max_results: int = _f(4096, "completed results kept for polling (oldest dropped first)")
    max_idempotency_keys: int = _f(16384, "remembered sampling submissions for retry de-duplication (oldest dropped)")
    seq_hole_wait_s: float = _f(
        360.0, "seconds training requests wait for an earlier seq_id that never arrives, then fail naming it"
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                raise ValueError(f"limit {f.name} must be a positive number, got {v!r}")


class LimitError(HTTPError):
    """A request refused by a limit; the message names it (413, 429, 431, 400 or 503)."""

    def __init__(self, status: int, limit: str, message: str) -> None:
        super().__init__(status, f"{message} (limit {limit}; raise it with --{limit.replace('_', '-')})")
        self.limit = limit


def sample_cost(num_samples: int, max_new_tokens: int, prompt_len: int, prompt_logprobs: bool, topk: int) -> int:
    """Token positions one asample computes: every sample's new tokens plus the scored prompt."""
    scored = prompt_len * max(1, topk) if (prompt_logprobs or topk) else 0
    return num_samples * max_new_tokens + scored


def check_sample_cost(limits: ServerLimits, job: Any, max_seq_len: int) -> None:
    """Refuse an asample whose worst case exceeds ``max_sample_tokens`` (400, before anything runs)."""
    budget = max(0, max_seq_len - len(job.prompt))
    max_new = budget if job.max_tokens is None else min(job.max_tokens, budget)
    cost = sample_cost(job.num_samples, max_new, len(job.prompt), job.prompt_logprobs, job.topk_prompt_logprobs)
    if cost > limits.max_sample_tokens:
        raise LimitError(
            400,
            "max_sample_tokens",
            f"this sampling request costs {cost} token positions (num_samples={job.num_samples} x "
            f"max_tokens={max_new}, plus scored prompt) > {limits.max_sample_tokens}; lower num_samples or "
            "max_tokens, or split it",
        )


def add_limit_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("limits (each refusal names its limit)")
    for f in dataclasses.fields(ServerLimits):
        kind = float if f.type in ("float", float) else int
        g.add_argument(
            "--" + f.name.replace("_", "-"),
            type=kind,
            default=None,
            metavar="N",
            help=f"{f.metadata['help']} (default {f.default})",
        )


def limits_from_args(args: argparse.Namespace) -> ServerLimits:
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(ServerLimits)
        if getattr(args, f.name, None) is not None
    }
    return ServerLimits(**given)


def configure_service(service: Any, limits: ServerLimits) -> None:
    """Hand the session, result and scheduling limits to a LocalService's parts."""
    service.sessions.configure(
        max_sessions=limits.max_sessions,
        max_per_user=limits.max_sessions_per_user,
        timeout_s=limits.session_timeout_s,
        retention_s=limits.finished_session_retention_s,
    )
    service.futures.configure(max_completed=limits.max_results, ttl_s=limits.result_ttl_s)
    service.scheduler.configure(
        max_idem=limits.max_idempotency_keys,
        idem_ttl_s=limits.result_ttl_s,
        max_queued_samples_per_user=limits.max_queued_samples_per_user,
        seq_hole_wait_s=limits.seq_hole_wait_s,
    )
