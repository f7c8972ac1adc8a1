"""The calendar's events are written byte for byte as icalendar writes the same events (its objects, its escaping
and its folding), and parse back to the tender's fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from icalendar import Alarm, Event

from veille.export.ics import EVENT_LENGTH, REMINDER, _event, tender_lines
from veille.i18n import gettext_for
from veille.models import Item, TopicTag

ZONE = ZoneInfo("Europe/Paris")
STAMP = datetime(2026, 11, 16, 6, 30, tzinfo=UTC)


def _by_icalendar(item: Item, lang: str) -> bytes:
    """The event through icalendar's objects: what the calendar was made of before."""
    _ = gettext_for(lang)
    due = item.local_deadline(ZONE)
    assert due is not None
    event = Event()
    event.add("uid", f"{item.cluster_id or item.id}@veille")
    event.add("dtstamp", STAMP)
    if isinstance(due, datetime):
        event.add("dtstart", due.astimezone(UTC) - EVENT_LENGTH)
        event.add("dtend", due.astimezone(UTC))
    else:
        event.add("dtstart", due)
        event.add("dtend", due + timedelta(days=1))
    event.add("summary", _("Deadline: {title}").format(title=item.title))
    lines = [item.title, *tender_lines(item, lang=lang, zone=ZONE)]
    if item.url:
        lines.append(item.url)
        event.add("url", item.url)
    event.add("description", "\n".join(lines))
    if item.country:
        event.add("location", item.country)
    event.add("categories", ["tender", *sorted(item.topics)])
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _("Tender closes in 3 days: {title}").format(title=item.title))
    alarm.add("trigger", -REMINDER, parameters={"RELATED": "END"})
    event.add_component(alarm)
    return event.to_ical()


def _tender(title: str, **fields: object) -> Item:
    at = datetime(2026, 11, 12, 8, 30, tzinfo=UTC)
    values: dict[str, object] = {"id": "t1", "source": "boamp", "kind": "tender", "title": title,
                                 "url": "https://boamp.example.org/avis/26-12345", "published_at": at,
                                 "collected_at": at, "country": "FR", "buyer": "Régie des eaux de Muret",
                                 "cpv": ["45252127"], "notice_id": "26-12345",
                                 "deadline_at": datetime(2026, 12, 4, 11, 0, tzinfo=UTC),
                                 "topics": {"wastewater": TopicTag(2.0, ["CPV 45252127"])}}
    return Item(**(values | fields))  # type: ignore[arg-type]


TITLES = [
    "Station d'épuration de Muret : extension et mise aux normes",
    "Short",
    "x" * 73 + "\\ then a backslash where the line folds, ; and , and \\N too",
    "y" * 60 + "^^^^^^^^^^^^^^^^^^^^ carets around the fold",
    "é" * 90,  # two octets each: a fold must not cut one
    "Traitement des eaux 水処理 " * 6 + "🚰" * 30,  # three and four octets
    "Line one\nline two\r\nline three\rfour",
    "Ends on a backslash at 74 " + "z" * 46 + "\\",
]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("title", TITLES)
def test_an_event_is_written_as_icalendar_writes_it(title, lang):
    item = _tender(title)
    assert _event(item, STAMP, ZONE, lang) == _by_icalendar(item, lang)


@pytest.mark.parametrize("fields", [
    {"url": None, "country": None, "buyer": None, "cpv": [], "notice_id": None, "topics": {}},
    {"deadline_at": datetime(2026, 12, 4, 22, 59, 59, tzinfo=UTC), "deadline_date_only": True,
     "deadline_zone": "Europe/Paris", "cluster_id": "cluster-7"},
    {"value_amount": 1_250_000.0, "value_currency": "EUR", "value_kind": "estimated",
     "topics": {"wastewater": TopicTag(2.0, []), "networks": TopicTag(1.0, []), "a,b;c": TopicTag(1.0, [])}},
])
def test_every_shape_of_event_is_written_as_icalendar_writes_it(fields):
    item = _tender(TITLES[0], **fields)
    for lang in ("fr", "en"):
        assert _event(item, STAMP, ZONE, lang) == _by_icalendar(item, lang)


def test_the_events_parse_back_to_the_tender():
    item = _tender("Lot 1; lot 2, a back\\slash " + "é" * 80)  # escapes, and folds inside accented text
    event = icalendar.Event.from_ical(_event(item, STAMP, ZONE, "fr"))
    assert str(event["summary"]) == f"Date limite : {item.title}"
    assert event.decoded("dtend") == item.deadline_at
    assert str(event["description"]).splitlines()[0] == item.title
    assert [str(c) for c in event["categories"].cats] == ["tender", "wastewater"]
