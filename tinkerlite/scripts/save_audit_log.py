"""Persist the organisation's Tinker audit log to disk, one JSON Lines file per UTC day, on a schedule.

The audit endpoint answers one UTC day at a time, so an archive must be built by polling. Past days are
written once and then skipped (they are final); today's file is rewritten on every tick::

    audit_logs/audit_log_2026-05-11.jsonl   # complete day
    audit_logs/audit_log_2026-05-13.jsonl   # today, refreshed each tick

Needs an API key with the ``VIEW_AUDIT_LOG`` capability. ``--once`` fetches and exits; otherwise it
backfills ``--backfill-days`` missing days and polls every ``--interval-seconds``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import tinkerlite as tinker
from tinkerlite.client.admin_client import AdminClient
from tinkerlite.scripts._cli import run_script
from tinkerlite.types import AuditLogEntry, AuditLogResponse

__all__ = ["days_to_fetch", "fetch_and_save_day", "main", "run_once"]

logger = logging.getLogger(__name__)


def _file_for_day(output_dir: Path, day: date) -> Path:
    return output_dir / f"audit_log_{day.isoformat()}.jsonl"


def _entry_to_jsonl(entry: AuditLogEntry) -> str:
    record = {
        "timestamp": entry.timestamp.isoformat(),
        "event": entry.event,
        "model_id": entry.model_id,
        "tinker_path": entry.tinker_path,
        "purpose": entry.purpose,
    }
    return json.dumps(record, sort_keys=True)


def _write_atomic(path: Path, response: AuditLogResponse) -> None:
    """All entries to ``path`` through a temporary file and a rename, so a reader never sees half a day."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for entry in response.entries:
            f.write(_entry_to_jsonl(entry) + "\n")
    os.replace(tmp, path)


def fetch_and_save_day(rest_client: AdminClient, output_dir: Path, day: date) -> int:
    """Fetch one day's audit log, write its file, return the number of entries."""
    response = rest_client.get_audit_log(day=day).result()
    _write_atomic(_file_for_day(output_dir, day), response)
    return len(response.entries)


def days_to_fetch(output_dir: Path, today: date, backfill_days: int) -> list[date]:
    """Today (always: it is still filling), then each of the previous ``backfill_days`` days with no file."""
    days = [today]
    for offset in range(1, backfill_days + 1):
        day = today - timedelta(days=offset)
        if not _file_for_day(output_dir, day).exists():
            days.append(day)
    return days


def run_once(rest_client: AdminClient, output_dir: Path, backfill_days: int) -> None:
    """One tick: fetch and write every day :func:`days_to_fetch` picks."""
    today = datetime.now(timezone.utc).date()
    for day in days_to_fetch(output_dir, today, backfill_days):
        n = fetch_and_save_day(rest_client, output_dir, day)
        logger.info("Wrote %d audit entries for %s", n, day.isoformat())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("audit_logs"),
        help="Directory to write per-day JSONL files into. Default: ./audit_logs",
    )
    parser.add_argument(
        "--backfill-days",
        type=int,
        default=7,
        help="How many days before today to check for missing files on each tick. Days already on disk are "
        "skipped. Default: 7.",
    )
    parser.add_argument(
        "--interval-seconds",
        type=int,
        default=3600,
        help="Polling interval in seconds between ticks. Default: 3600 (1 hour).",
    )
    parser.add_argument("--once", action="store_true", help="Fetch once and exit instead of polling on an interval.")
    args = parser.parse_args()
    if args.backfill_days < 0:
        parser.error(f"--backfill-days must be >= 0, got {args.backfill_days}")
    if args.interval_seconds <= 0:
        parser.error(f"--interval-seconds must be > 0, got {args.interval_seconds}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    def body() -> None:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        rest_client = tinker.AdminClient()
        if args.once:
            run_once(rest_client, args.output_dir, args.backfill_days)
            return
        while True:
            try:
                run_once(rest_client, args.output_dir, args.backfill_days)
            except Exception:
                logger.exception("Audit log fetch failed; will retry next tick")
            time.sleep(args.interval_seconds)

    run_script("save_audit_log", body)


if __name__ == "__main__":
    main()
