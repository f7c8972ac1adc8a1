"""The health table of sources printed by `veille sources` (pure)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence, Set
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from veille.models import FetchState, Source


def _when(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else "never"


FAILING_RUNS = 3  # consecutive failed runs before a source is reported to admins


def problem(source: Source, state: FetchState) -> str | None:
    """What an admin should know about a source: failing for several runs, or silent; None if healthy."""
    if not source.enabled:
        return None
    if state.failures >= FAILING_RUNS:
        return f"failing for {state.failures} runs: {state.last_error}"
    if state.items_total and not state.items_recent and state.last_ok_at:
        return "silent: no new item for 7 days although it used to yield some (format or selectors changed?)"
    return None


def unhealthy(sources: Sequence[Source], states: Mapping[str, FetchState]) -> list[tuple[str, str]]:
    """(source name, problem) for every enabled source that needs an admin."""
    found = [(s.name, problem(s, states.get(s.name, FetchState(s.name)))) for s in sources]
    return [(name, text) for name, text in found if text]


HEALTH_COLUMNS = ("source", "type", "kind", "every", "next collect", "last fetch", "last ok", "status", "failures",
                  "items", "items 7 days", "collected by", "health")


def next_collect(source: Source, scheduled: Mapping[str, datetime], zone: ZoneInfo, queued: bool = False) -> str:
    """When `veille run` collects the source next (its job in the database), in `zone`; `queued`: a job of the
    source waits or runs in the queue now."""
    if not source.enabled:
        return "disabled"
    if queued:
        return "now (in the queue)"
    at = scheduled.get(f"collect:{source.name}")
    return _when(at, zone) if at else "not scheduled (veille run schedules it)"


def health_rows(sources: Sequence[Source], states: Mapping[str, FetchState], zone: ZoneInfo,
                scheduled: Mapping[str, datetime] | None = None,
                queued: Set[str] = frozenset()) -> list[dict[str, str]]:
    """One row per configured source (keys: HEALTH_COLUMNS, plus `ok`: "yes" when nothing is wrong); `scheduled`:
    the scheduler's next run time of each job id (`collect:NAME`); `queued`: the sources with a job in the queue
    (PostgreSQL's workers)."""
    rows = []
    for source in sources:
        state = states.get(source.name, FetchState(source.name))
        status = state.last_status or ("disabled" if not source.enabled else "not yet fetched")
        if state.next_attempt_at and state.failures:
            status += f", next try {_when(state.next_attempt_at, zone)}"
        trouble = problem(source, state)
        health = trouble or ((state.last_error or "")[:120] if state.failures else "ok")
        cells = (source.name, source.type, source.kind, source.every if source.enabled else "disabled",
                 next_collect(source, scheduled or {}, zone, source.name in queued), _when(state.last_fetch_at, zone),
                 _when(state.last_ok_at, zone), status, str(state.failures), str(state.items_total),
                 str(state.items_recent), state.collected_by or "", health)
        rows.append(dict(zip(HEALTH_COLUMNS, cells, strict=True)) | {"ok": "yes" if health == "ok" else ""})
    return rows


def health_table(rows: Sequence[Mapping[str, str]]) -> str:
    """Return the rows of `health_rows` as a text table: next collect, last fetch, last success, status, failures,
    items, health."""
    table = Table()
    for name in HEALTH_COLUMNS:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(row[c] for c in HEALTH_COLUMNS))
    console = Console(file=io.StringIO(), width=220, record=True, color_system=None)
    console.print(table)
    return console.export_text()
