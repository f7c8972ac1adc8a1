"""What a collect did, per source and in all: the report the command line and the scheduler print."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SourceReport:
    name: str
    status: str  # ok | not-modified | failed | waiting
    items: int = 0
    new: int = 0
    updated: int = 0
    error: str | None = None
    seconds: float = 0.0
    http_status: int | None = None
    bytes: int = 0


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

    def line(self) -> str:
        not_modified = sum(s.status == "not-modified" for s in self.sources)
        waiting = sum(s.status == "waiting" for s in self.sources)
        wait_note = f", {waiting} waiting (backoff)" if waiting else ""
        return (f"{len(self.sources)} sources: {self.ok} ok ({not_modified} not modified), {self.failed} failed"
                f"{wait_note}; items: {self.new} new, {self.updated} updated")


def waiting_report(name: str, until: object, failures: int, last_error: str | None) -> SourceReport:
    """A source skipped because it waits out its backoff after failures."""
    return SourceReport(name, "waiting", error=(
        f"waiting until {until:%Y-%m-%d %H:%M} UTC after {failures} failure{'s' if failures != 1 else ''}: "
        f"{last_error}"))
