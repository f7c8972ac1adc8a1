"""The health table of sources printed by `veille sources` (pure)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from veille.models import FetchState, Source


def _when(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else "never"


def health_table(sources: Sequence[Source], states: Mapping[str, FetchState], zone: ZoneInfo) -> str:
    """Return one row per configured source: last fetch, last success, status, failures, items, error."""
    table = Table()
    for name in ("source", "type", "kind", "every", "last fetch", "last ok", "status", "failures", "items",
                 "last error"):
        table.add_column(name, overflow="fold")
    for source in sources:
        state = states.get(source.name, FetchState(source.name))
        status = state.last_status or ("disabled" if not source.enabled else "not yet fetched")
        table.add_row(source.name, source.type, source.kind, source.every if source.enabled else "disabled",
                      _when(state.last_fetch_at, zone), _when(state.last_ok_at, zone), status,
                      str(state.failures), str(state.items_total), (state.last_error or "")[:120])
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    console.print(table)
    return console.export_text()
