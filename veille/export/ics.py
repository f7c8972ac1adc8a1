"""Tender deadlines as an iCalendar file (RFC 5545) for calendar clients (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from veille import __version__
from veille.i18n import Formats, gettext_for
from veille.models import Item, current_notices

EVENT_LENGTH = timedelta(hours=1)  # the hour before the deadline: when the offer must be in
REMINDER = timedelta(days=3)


def latest_per_tender(items: Sequence[Item], zone: tzinfo = UTC) -> list[Item]:
    """One item per tender (cluster): the most recent notice that states a deadline, soonest deadline first (a
    deadline given as a day passing at the end of that day in `zone`)."""
    return sorted(current_notices(items).values(),
                  key=lambda i: i.closes_at(zone) or datetime.max.replace(tzinfo=UTC))


def tender_lines(item: Item, deadline: bool = False, lang: str = "en", zone: tzinfo = UTC) -> list[str]:
    """The tender's details as lines of text for readers of `lang`: buyer, (deadline,) CPV codes, notice, value."""
    fmt = Formats(lang, zone if isinstance(zone, ZoneInfo) else ZoneInfo("UTC"))
    _ = fmt.gettext
    lines = [_("Buyer: {buyer}").format(buyer=item.buyer)] if item.buyer else []
    due = item.local_deadline(fmt.zone)
    if deadline and due is not None:
        if item.deadline_kind in (None, "tender"):
            lines.append(_("Deadline: {when}").format(when=fmt.moment(due)))
        else:  # "Candidatures jusqu'au jeu. 7 mai 2026, 23:55"
            words = fmt.due(item.deadline_kind)
            lines.append(f"{words[:1].upper()}{words[1:]} {fmt.moment(due)}")
    if item.cpv:
        lines.append(_("CPV: {codes}").format(codes=", ".join(item.cpv)))
    if item.notice_id:
        lines.append(_("Notice: {notice} ({source})").format(notice=item.notice_id, source=item.source))
    value = fmt.value(item.value_amount, item.value_currency, item.value_kind, item.value_min, item.value_max)
    if value:
        lines.append(value)
    return lines


def to_ics(items: Sequence[Item], now: datetime | None = None, zone: tzinfo = UTC, lang: str = "en",
           events: dict[tuple[str, str], bytes] | None = None) -> str:
    """Return a calendar with one event per tender deadline: link, buyer, CPV and notice in the description, in
    the language `lang`. A deadline given as a day is an all-day event on that day. `events`, shared by the
    calendars of one digest run (same `now` and `zone`), keeps each event once made: a member's calendar takes
    its events from the working group's."""
    _ = gettext_for(lang)
    stamp = now or datetime.now(UTC)
    calendar = Calendar()
    calendar.add("prodid", f"-//veille//water market watch {__version__}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _("veille — tender deadlines"))
    made = {} if events is None else events
    body = []
    for item in latest_per_tender(items, zone):
        key = (item.id, lang)
        if key not in made:
            made[key] = _event(item, stamp, zone, lang).to_ical()
        body.append(made[key])
    head = calendar.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    return (head[:-len(end)] + b"".join(body) + end).decode("utf-8")


def _event(item: Item, stamp: datetime, zone: tzinfo, lang: str) -> Event:
    _ = gettext_for(lang)
    due = item.local_deadline(zone)
    assert due is not None
    event = Event()
    event.add("uid", f"{item.cluster_id or item.id}@veille")
    event.add("dtstamp", stamp)
    if isinstance(due, datetime):
        event.add("dtstart", due.astimezone(UTC) - EVENT_LENGTH)
        event.add("dtend", due.astimezone(UTC))
    else:  # all day: DTSTART;VALUE=DATE and the next day as its exclusive end
        event.add("dtstart", due)
        event.add("dtend", due + timedelta(days=1))
    event.add("summary", _("Deadline: {title}").format(title=item.title))
    lines = [item.title, *tender_lines(item, lang=lang, zone=zone)]
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
    return event
