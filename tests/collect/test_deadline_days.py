"""Tender deadlines given as a day without a time: kept as that day, open until its end where the buyer is (pure
functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from veille.collect import parse_payload
from veille.collect.normalize import written_time
from veille.collect.tender import earliest_deadline, tender_deadline, written_deadline
from veille.models import Due, Item, Source

PARIS = ZoneInfo("Europe/Paris")
MONTREAL = ZoneInfo("America/Montreal")


def _fields(at, date_only=False, zone=None, kind="tender"):
    due = Due(kind, at, date_only, zone)
    return {"deadline_at": at, "deadline_date_only": date_only, "deadline_zone": zone, "deadline_kind": kind,
            "deadlines": [due]}


NONE = {"deadline_at": None, "deadline_date_only": False, "deadline_zone": None, "deadline_kind": None,
        "deadlines": []}


@pytest.mark.parametrize(("text", "end", "zone"), [
    ("2026-09-18", datetime(2026, 9, 19, 2, 59, 59, tzinfo=UTC), "America/Sao_Paulo"),  # the buyer's zone
    ("20260918", datetime(2026, 9, 19, 2, 59, 59, tzinfo=UTC), "America/Sao_Paulo"),
    ("2026-09-18+02:00", datetime(2026, 9, 18, 21, 59, 59, tzinfo=UTC), "+02:00"),  # the offset written wins
    ("2026-09-18Z", datetime(2026, 9, 18, 23, 59, 59, tzinfo=UTC), "UTC"),
])
def test_a_day_alone_closes_at_its_end_in_the_buyers_zone(text, end, zone):
    """A date with no time is the last second of that day where the buyer is, flagged as a day (not 00:00,
    which would be a day early)."""
    assert tender_deadline(text, zone="America/Sao_Paulo") == _fields(end, True, zone)


def test_a_day_with_a_time_is_a_time():
    """A time in the date or beside it gives the instant, in UTC, as before."""
    assert tender_deadline("2026-09-18T12:00:00+02:00") == _fields(datetime(2026, 9, 18, 10, tzinfo=UTC))
    assert tender_deadline("2026-09-18+02:00", "23:59:00+02:00")["deadline_at"] == datetime(2026, 9, 18, 21, 59,
                                                                                             tzinfo=UTC)
    assert tender_deadline("20200903", "14:00", "Europe/Paris") == _fields(datetime(2020, 9, 3, 12, tzinfo=UTC))
    assert tender_deadline(None) == NONE
    assert tender_deadline("2020-09-03", kind="participation")["deadline_kind"] == "participation"


@pytest.mark.parametrize(("text", "expected"), [
    ("18 septembre 2026", _fields(datetime(2026, 9, 18, 21, 59, 59, tzinfo=UTC), True, "Europe/Paris")),
    ("18/09/2026", _fields(datetime(2026, 9, 18, 21, 59, 59, tzinfo=UTC), True, "Europe/Paris")),
    ("18/09/2026 14h00", _fields(datetime(2026, 9, 18, 12, tzinfo=UTC))),
    ("30 novembre 2026 à 12h00", _fields(datetime(2026, 11, 30, 11, tzinfo=UTC))),
    ("le 18 septembre 2026 à 0h00", _fields(datetime(2026, 9, 17, 22, tzinfo=UTC))),  # midnight written is a time
    ("pas une date", NONE),
])
def test_written_deadlines_on_pages(text, expected):
    """Free text (pages, any JSON or CSV): a day alone is a day; a written hour, even 0h00, is a time."""
    assert written_deadline(text, "Europe/Paris") == expected


def test_written_time_tells_whether_a_time_was_given():
    assert written_time("2026-11-12", "Europe/Paris") == (datetime(2026, 11, 12, tzinfo=PARIS), False)
    assert written_time("2026-11-12 10:00", "Europe/Paris") == (datetime(2026, 11, 12, 10, tzinfo=PARIS), True)
    assert written_time("  ") is None


def test_the_earliest_lot_counts_a_day_as_its_end():
    """Of a tender's lots, the deadline that passes first: a day closes at its end, after that day's noon; every
    distinct deadline is kept, in time order."""
    day = tender_deadline("2026-09-18")
    noon = tender_deadline("2026-09-18T12:00:00Z")
    both = earliest_deadline([day, noon])
    assert both["deadline_at"] == noon["deadline_at"] and not both["deadline_date_only"]
    assert both["deadlines"] == [*noon["deadlines"], *day["deadlines"]]
    assert earliest_deadline([tender_deadline("2026-09-17"), noon])["deadline_date_only"]
    assert earliest_deadline([tender_deadline(None)]) == NONE


def test_a_day_closes_at_the_end_of_that_day_where_the_buyer_is():
    """`closes_at` is 23:59:59 in the buyer's zone; `local_deadline` gives the day written, in every zone."""
    paris = Item(id="t", source="s", kind="tender", title="t", **tender_deadline("2026-09-18", zone="Europe/Paris"))
    assert paris.closes_at(MONTREAL) == datetime(2026, 9, 18, 21, 59, 59, tzinfo=UTC)  # CEST, UTC+2
    montreal = Item(id="m", source="s", kind="tender", title="m",
                    **tender_deadline("2026-09-18", zone="America/Montreal"))
    assert montreal.closes_at(PARIS) == datetime(2026, 9, 19, 3, 59, 59, tzinfo=UTC)  # EDT, UTC-4
    assert montreal.local_deadline(PARIS) == paris.local_deadline(MONTREAL) == date(2026, 9, 18)
    timed = Item(id="u", source="s", kind="tender", title="u", **tender_deadline("2026-09-18T12:00:00Z"))
    assert timed.closes_at(PARIS) == datetime(2026, 9, 18, 12, tzinfo=UTC)
    assert timed.local_deadline(PARIS) == datetime(2026, 9, 18, 14, tzinfo=PARIS)
    assert paris.to_json()["deadline_date_only"] is True and timed.to_json()["deadline_date_only"] is False
    assert paris.to_json()["deadline_zone"] == "Europe/Paris"


def test_a_csv_source_with_a_date_format_without_a_time_gives_days():
    """`date_format` with no hour directive: the deadline is a day; with %H:%M, a time."""
    def parse(date_format: str, value: str) -> Item:
        source = Source(name="c", kind="tender", type="csv", url="https://x.example.org/a.csv",
                        options={"delimiter": ";", "date_format": date_format, "timezone": "Europe/Paris",
                                 "fields": {"title": "objet", "id": "ref", "deadline": "limite"}})
        [item] = parse_payload(source, f"ref;objet;limite\n1;Station;{value}\n".encode())
        return item

    day = parse("%d/%m/%Y", "18/09/2026")
    assert (day.deadline_at, day.deadline_date_only) == (datetime(2026, 9, 18, 21, 59, 59, tzinfo=UTC), True)
    timed = parse("%d/%m/%Y %H:%M", "18/09/2026 12:00")
    assert (timed.deadline_at, timed.deadline_date_only) == (datetime(2026, 9, 18, 10, tzinfo=UTC), False)
