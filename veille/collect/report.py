"""What a collect did, per source and in all: the report the command line and the scheduler print."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from veille.models import FetchState, Source


@dataclass
class SourceReport:
    name: str
    status: str  # ok | not-modified | failed | waiting | busy
    items: int = 0
    new: int = 0
    updated: int = 0
    error: str | None = None
    seconds: float = 0.0
    http_status: int | None = None
    bytes: int = 0
    skipped: int = 0  # entries of the payload that gave no item (a feed entry with neither title nor link)


@dataclass
class CollectReport:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(s.status in ("ok", "not-modified") for s in self.sources)

    @property
    def failed(self) -> int:
        return sum(s.status == "failed" for s in self.sources)

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources)

    @property
    def updated(self) -> int:
        return sum(s.updated for s in self.sources)

    @property
    def skipped(self) -> int:
        return sum(s.skipped for s in self.sources)

    def to_json(self) -> dict[str, object]:
        """The report for scripts (`veille collect --json`): the summary line, the totals, each source's outcome."""
        return {"line": self.line(), "sources_count": len(self.sources), "ok": self.ok, "failed": self.failed,
                "new": self.new, "updated": self.updated, "skipped": self.skipped,
                "sources": [vars(s) for s in self.sources]}

    def line(self) -> str:
        not_modified = sum(s.status == "not-modified" for s in self.sources)
        waiting = sum(s.status == "waiting" for s in self.sources)
        busy = sum(s.status == "busy" for s in self.sources)
        wait_note = (f", {waiting} waiting (backoff)" if waiting else "") + (
            f", {busy} skipped (being collected by another process)" if busy else "")
        skipped = f", {self.skipped} entries skipped (no title or link)" if self.skipped else ""
        return (f"{len(self.sources)} sources: {self.ok} ok ({not_modified} not modified), {self.failed} failed"
                f"{wait_note}; items: {self.new} new, {self.updated} updated{skipped}")


def busy_report(name: str, owner: str) -> SourceReport:
    """A source skipped because another process is collecting it now."""
    return SourceReport(name, "busy", error=f"being collected by another process ({owner}): skipped")


def waiting(sources: Sequence[Source], states: Mapping[str, FetchState], now: datetime) -> list[SourceReport]:
    """The sources that wait out their backoff after failures at `now`, as reports, by name."""
    chosen = {s.name for s in sources}
    reports = []
    for name, state in sorted(states.items()):
        until = state.next_attempt_at
        if name in chosen and until and until > now:
            many = "s" if state.failures != 1 else ""
            reports.append(SourceReport(name, "waiting", error=(
                f"waiting until {until:%Y-%m-%d %H:%M} UTC after {state.failures} failure{many}: {state.last_error}")))
    return reports
