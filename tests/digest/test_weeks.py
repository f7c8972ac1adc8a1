"""ISO week boundaries in Europe/Paris, including daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from veille.digest.weeks import Week

PARIS = ZoneInfo("Europe/Paris")


def test_bounds_are_local_midnights():
    start, end = Week.parse("2026-W46").bounds(PARIS)
    assert start == datetime(2026, 11, 8, 23, tzinfo=UTC)  # Monday 9 Nov 00:00 in Paris (UTC+1)
    assert end == datetime(2026, 11, 15, 23, tzinfo=UTC)


def test_week_with_summer_time_change_is_167_hours():
    start, end = Week.parse("2026-W13").bounds(PARIS)  # clocks go forward on Sunday 29 March 2026
    assert start == datetime(2026, 3, 22, 23, tzinfo=UTC)
    assert end == datetime(2026, 3, 29, 22, tzinfo=UTC)
    assert (end - start).total_seconds() == 167 * 3600


def test_last_complete_week_follows_local_time():
    """At 00:30 on Monday in Paris (still Sunday in UTC) the week that just ended is the last complete one."""
    monday_local = datetime(2026, 11, 15, 23, 30, tzinfo=UTC)
    assert str(Week.last_complete(monday_local, PARIS)) == "2026-W46"
    sunday_local = datetime(2026, 11, 15, 22, 30, tzinfo=UTC)
    assert str(Week.last_complete(sunday_local, PARIS)) == "2026-W45"


def test_year_boundaries():
    assert str(Week.parse("2027-W01").previous()) == "2026-W53"
    assert Week.parse("2026-W53").monday.isoformat() == "2026-12-28"
    with pytest.raises(ValueError, match="has no week 53"):
        Week.parse("2025-W53")
    with pytest.raises(ValueError, match="YYYY-Www"):
        Week.parse("2026-46")
