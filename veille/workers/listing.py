"""The queue as `veille jobs` prints it (pure): one row a job, then how many jobs are in each state."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from veille.periods import COLLECT, DIGEST

STATES = ("waiting", "running", "stalled", "failed", "done", "cancelled", "aborted")
SHOWN = ("waiting", "running", "stalled", "failed")  # what `veille jobs` lists unless told otherwise
JOB_COLUMNS = ("id", "task", "source", "state", "attempts", "worker", "deferred", "started")
TASKS = {COLLECT: "collect", DIGEST: "digest"}


def _when(value: datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value else None


def job_rows(jobs: Sequence[Mapping[str, Any]], states: Sequence[str], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The jobs in `states` as rows (keys: JOB_COLUMNS): a digest's "source" is the send time it is for."""
    rows = []
    for job in jobs:
        if job["state"] not in states:
            continue
        args = job["args"] or {}
        subject = args.get("source")
        if subject is None and "timestamp" in args:
            subject = f"send of {_when(datetime.fromtimestamp(int(args['timestamp']), UTC), zone)}"
        rows.append({"id": job["id"], "task": TASKS.get(job["task_name"], job["task_name"]), "source": subject,
                     "state": job["state"], "attempts": job["attempts"],
                     "worker": job["worker_id"] if job["state"] in ("running", "stalled") else None,
                     "deferred": _when(job["deferred_at"], zone), "started": _when(job["started_at"], zone)})
    return rows


def jobs_table(rows: Sequence[Mapping[str, Any]], counts: Mapping[str, int], workers: int) -> str:
    """The rows as a text table, then one line: jobs per state and the workers alive."""
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for name in JOB_COLUMNS:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in JOB_COLUMNS))
    console = Console(file=io.StringIO(), width=160, record=True, color_system=None)
    if rows:
        console.print(table)
    else:
        console.print("no job in these states")
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in STATES if counts.get(s))
    console.print(f"{summary or 'the queue is empty'}; {workers} worker{'s' if workers != 1 else ''} alive")
    return console.export_text()
