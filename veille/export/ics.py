"""Tender deadlines as an iCalendar file (RFC 5545) for calendar clients (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from veille import __version__
from veille.models import Item, current_notices

EVENT_LENGTH = timedelta(hours=1)  # the hour before the deadline: when the offer must be in
REMINDER = timedelta(days=3)


def latest_per_tender(items: Sequence[Item]) -> list[Item]:
    """One item per tender (cluster): the most recent notice that states a deadline, soonest deadline first."""
    return sorted(current_notices(items).values(), key=lambda i: i.deadline_at or datetime.max.replace(tzinfo=UTC))


def tender_lines(item: Item, deadline: bool = False) -> list[str]:
    """The tender's details as lines of text: buyer, (deadline,) CPV codes, notice, value."""
    lines = [f"Buyer: {item.buyer}"] if item.buyer else []
    if deadline and item.deadline_at:
        lines.append(f"Deadline: {item.deadline_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    if item.cpv:
        lines.append(f"CPV: {', '.join(item.cpv)}")
    if item.notice_id:
        lines.append(f"Notice: {item.notice_id} ({item.source})")
    if item.value_amount is not None:
        lines.append(f"Value: {item.value_amount:,.0f} {item.value_currency or ''}".rstrip())
    return lines


def to_ics(items: Sequence[Item], now: datetime | None = None) -> str:
    """Return a calendar with one event per tender deadline: link, buyer, CPV and notice in the description."""
    stamp = now or datetime.now(UTC)
    calendar = Calendar()
    calendar.add("prodid", f"-//veille//water market watch {__version__}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "veille — tender deadlines")
    for item in latest_per_tender(items):
        assert item.deadline_at is not None
        event = Event()
        event.add("uid", f"{item.cluster_id or item.id}@veille")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.deadline_at - EVENT_LENGTH)
        event.add("dtend", item.deadline_at)
        event.add("summary", f"Deadline: {item.title}")
        lines = [item.title, *tender_lines(item)]
        if item.url:
            lines.append(item.url)
            event.add("url", item.url)
        event.add("description", "\n".join(lines))
        if item.country:
            event.add("location", item.country)
        event.add("categories", ["tender", *sorted(item.topics)])
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Tender closes in 3 days: {item.title}")
        alarm.add("trigger", -REMINDER, parameters={"RELATED": "END"})
        event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
