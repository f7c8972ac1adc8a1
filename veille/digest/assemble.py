"""A week's digests assembled from its items: which digests, what each lists, rendered, as emails (pure).

The caller reads the items from the store and hands them over with the settings; nothing here reads the
store, the clock or the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from veille.digest.deliver import build_message
from veille.digest.render import (
    DigestContent,
    Feedback,
    Reader,
    Rendered,
    SiteLinks,
    Trend,
    render_alert,
    render_digest,
)
from veille.digest.weeks import Week
from veille.errors import InputError
from veille.i18n import Formats, gettext_for, translations
from veille.models import Config, Item, current_notices

CLOSING_SOON = timedelta(days=14)
TREND_WEEKS = 12
TREND_TOPICS = 4  # topics drawn in the working group's trend (the week's largest); a member's: its own
FULL = "full"  # the working group's digest; the others are named after their member


class Tenders:
    """The notices of each tender (cluster) that a week's digests show, given once by the caller."""

    def __init__(self, clusters: Mapping[str, Sequence[Item]]):
        self.clusters = clusters

    @staticmethod
    def one_per_tender(items: Sequence[Item]) -> list[Item]:
        """Keep the first item (the store gives newest first) of each tender: a call and its award count once."""
        newest: dict[str, Item] = {}
        for item in items:
            newest.setdefault(item.cluster_id or item.id, item)
        return list(newest.values())

    def current(self, item: Item) -> Item:
        """The tender's latest notice that states a deadline, else the item itself."""
        key = item.cluster_id or item.id
        return current_notices(self.clusters.get(item.cluster_id or "", ())).get(key, item)

    def closing(self, items: Sequence[Item], now: datetime, zone: ZoneInfo) -> list[Item]:
        """Tenders whose current deadline is still ahead of `now` and at most CLOSING_SOON days away (calendar
        days in `zone`: a deadline "in 14 days" is closing soon whatever its hour), soonest first. A deadline
        given as a day is open until the end of that day in `zone`."""
        current = {c.id: c for c in (self.current(i) for i in self.one_per_tender(items))}
        last_day = (now.astimezone(zone) + CLOSING_SOON).date()
        closes = {c.id: c.closes_at(zone) for c in current.values()}
        due = [c for c in current.values()
               if (at := closes[c.id]) and now <= at and at.astimezone(zone).date() <= last_day]
        return sorted(due, key=lambda c: closes[c.id] or now)

    def of(self, items: Sequence[Item]) -> dict[str, list[Item]]:
        """{item id: all notices of its tender, in the order given (the store's: first seen first)} where a
        tender has several."""
        return {i.id: list(self.clusters[i.cluster_id]) for i in items
                if i.cluster_id and len(self.clusters.get(i.cluster_id, ())) > 1}


@dataclass(frozen=True)
class WeekItems:
    """What the store holds for one week: its items (one per tender) and the open tenders."""

    items: list[Item]
    closing: list[Item]
    tenders: Tenders


@dataclass(frozen=True)
class Plan:
    """One digest to build: for the working group (member None) or for one member."""

    id: str
    member: str | None
    recipients: tuple[str, ...]
    folder: Path


@dataclass(frozen=True)
class Settings:
    """What the assembly needs beyond the items: the configuration, the zone, "now" and the sender."""

    config: Config
    zone: ZoneInfo
    now: datetime
    sender: str
    site: Callable[[str | None], SiteLinks | None] = field(default=lambda member: None)
    health: Sequence[tuple[str, str]] = ()  # (source, problem) of the sources needing attention
    # (weeks, member, topics) -> ({kind: counts}, {topic: counts}): the store's weekly counts, for the trend
    counts: Callable[[Sequence[Week], str | None, Sequence[str]],
                     tuple[dict[str, list[int]], dict[str, list[int]]]] = field(
        default=lambda weeks, member, topics: ({}, {}))
    feedback: Feedback | None = None  # the working group's line of feedback (verdicts, suggestions pending)

    def lang(self, member: str | None) -> str:
        """The language of a digest: the member's `lang`, else `digest.lang`."""
        named = self.config.member(member) if member else None
        return (named.lang if named and named.lang else None) or self.config.digest.lang


def check_members(config: Config, member_ids: Sequence[str]) -> None:
    """Raise InputError naming the first member id that the configuration does not know."""
    for member_id in member_ids:
        if config.member(member_id) is None:
            raise InputError(f"unknown member {member_id!r}; members: {', '.join(m.id for m in config.members)}")


def plan(config: Config, member_ids: Sequence[str], folder: Path) -> list[Plan]:
    """The digests to build: without `member_ids`, the working group's and each member's with `digest: true`;
    with them, only those members'."""
    plans = []
    if not member_ids:
        plans.append(Plan(FULL, None, tuple(config.digest.recipients), folder))
        member_ids = [m.id for m in config.members if m.digest]
    for member_id in member_ids:
        member = config.member(member_id)
        assert member is not None, member_id
        plans.append(Plan(member_id, member_id, tuple(member.emails), folder / "members" / member_id))
    return plans


def chosen_items(items: Sequence[Item], member: str | None) -> list[Item]:
    """The items a digest counts: all for the working group, a member's matches for a member."""
    return list(items) if member is None else [i for i in items if member in i.members]


def reader(digest: Plan, settings: Settings) -> Reader:
    """Who reads `digest`, in which language, and whether it shows other members' matches."""
    config = settings.config
    lang = settings.lang(digest.member)
    return Reader(Formats(lang, settings.zone), {t.id: t.label_in(lang) for t in config.topics},
                  {m.id: m.name for m in config.members}, digest.member,
                  see_others=digest.member is None or config.digest.members_see_each_other,
                  per_section=config.digest.per_section)


def trend_weeks(week: Week) -> list[Week]:
    """The weeks a digest's trend draws: TREND_WEEKS of them, oldest first, `week` last."""
    weeks = [week]
    while len(weeks) < TREND_WEEKS:
        weeks.insert(0, weeks[0].previous())
    return weeks


def trend(week: Week, digest: Plan, chosen: Sequence[Item], settings: Settings) -> Trend:
    """The weeks up to `week` (TREND_WEEKS of them) counted as the digest counts: per kind, and per topic for the
    reader's topics (a member's own; for the working group, the week's largest)."""
    weeks = trend_weeks(week)
    member = settings.config.member(digest.member) if digest.member else None
    if member is not None:
        topics = list(member.topics)
    else:
        sizes = {t: sum(t in i.topics for i in chosen) for t in settings.config.topic_ids}
        topics = [t for t in sorted(sizes, key=lambda t: -sizes[t]) if sizes[t]][:TREND_TOPICS]
    kinds, per_topic = settings.counts(weeks, digest.member, topics)
    return Trend(weeks, kinds, per_topic)


def render(digest: Plan, week: Week, week_items: WeekItems, settings: Settings) -> tuple[list[Item], Rendered]:
    """The items of one digest and its HTML and text."""
    config = settings.config
    chosen = chosen_items(week_items.items, digest.member)
    # the trend (and the week before, which it counts) is asked for once the items are laid out
    content = DigestContent(chosen, None, chosen_items(week_items.closing, digest.member),
                            week_items.tenders.of(chosen), lambda: trend(week, digest, chosen, settings),
                            settings.feedback if digest.member is None else None)
    rendered = render_digest(content, week, reader(digest, settings), now=settings.now, topic_order=config.topic_ids,
                             source_health=settings.health if digest.member is None else (),
                             site=settings.site(digest.member))
    return chosen, rendered


def subject(config: Config, week: Week, member: str | None, zone: ZoneInfo, lang: str) -> str:
    """The digest's subject line: `digest.subject` with the week (else the language's own: "Veille eau — semaine
    46 (9–15 nov. 2026)"), and the member's name for a member."""
    if config.digest.subject:
        text = config.digest.subject.format(week=week)
    else:
        start, end = week.bounds(zone)
        period = Formats(lang, zone).period(start.astimezone(zone).date(),
                                            end.astimezone(zone).date() - timedelta(days=1))
        _ = gettext_for(lang)
        text = _("Water market watch — week {number} ({period})").format(number=week.number, period=period)
    named = config.member(member) if member else None
    return text + (f" — {named.name}" if named else "")


def messages(digest: Plan, rendered: Rendered, week: Week, settings: Settings) -> list[tuple[str, EmailMessage]]:
    """(digest id, message) for each recipient of one digest."""
    title = subject(settings.config, week, digest.member, settings.zone, settings.lang(digest.member))
    return [(digest.id, build_message(sender=settings.sender, recipient=to, subject=title, text=rendered.text,
                                      html=rendered.html, now=settings.now)) for to in digest.recipients]


def admin_alert(week: Week, settings: Settings) -> list[tuple[str, EmailMessage]]:
    """("admin", message) for each admin when sources need attention, else nothing."""
    health, admins = settings.health, settings.config.digest.admins
    if not health or not admins:
        return []
    catalog = translations(settings.lang(None))
    count = catalog.ngettext("{n} source needs attention (week {week}):",
                                   "{n} sources need attention (week {week}):", len(health))
    text = (count.format(n=len(health), week=week) + "\n\n"
            + "\n".join(f"- {name}: {problem}" for name, problem in health) + "\n\n"
            + catalog.gettext("See `veille sources` for the whole table; try one with `veille try NAME`.") + "\n")
    title = catalog.ngettext("veille: {n} source needs attention — {week}",
                                   "veille: {n} sources need attention — {week}", len(health)).format(
        n=len(health), week=week)
    html = render_alert(text, title, settings.lang(None))
    return [("admin", build_message(sender=settings.sender, recipient=admin, now=settings.now, text=text, html=html,
                                    subject=title)) for admin in admins]
