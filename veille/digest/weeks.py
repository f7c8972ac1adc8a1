"""ISO weeks in the configured time zone, as UTC bounds (pure functions)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$", re.ASCII)
FIRST_YEAR, LAST_YEAR = 1900, 2100


@dataclass(frozen=True)
class Week:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        """Read 'YYYY-Www'; raise ValueError naming the expected form."""
        m = _WEEK.match(text.strip())
        if not m:
            raise ValueError(f"{text!r} is not an ISO week; write it as YYYY-Www, e.g. 2026-W46")
        year, number = int(m.group(1)), int(m.group(2))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"{text!r}: the year must be between {FIRST_YEAR} and {LAST_YEAR}")
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise ValueError(f"{text!r}: year {year} has no week {number}") from None
        return cls(year, number)

    @classmethod
    def containing(cls, moment: datetime, zone: ZoneInfo) -> Week:
        iso = moment.astimezone(zone).isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def last_complete(cls, now: datetime, zone: ZoneInfo) -> Week:
        """Return the last week that has fully ended at `now` in `zone`."""
        return cls.containing(now, zone).previous()

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    def previous(self) -> Week:
        iso = (self.monday - timedelta(days=7)).isocalendar()
        return Week(iso.year, iso.week)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Return [start, end) in UTC: Monday 00:00 to the next Monday 00:00, local time."""
        start = datetime.combine(self.monday, time(0), tzinfo=zone)
        end = datetime.combine(self.monday + timedelta(days=7), time(0), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)
