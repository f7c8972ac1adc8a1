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
from veille.digest.render import Rendered, SiteLinks, render_alert, render_digest
from veille.digest.summarize import summarize
from veille.digest.weeks import Week
from veille.errors import InputError
from veille.models import Config, Item, current_notices

CLOSING_SOON = timedelta(days=14)
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
    """What the store holds for one week: its items (one per tender), the week before's, the open tenders."""

    items: list[Item]
    previous: list[Item]
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


def render(digest: Plan, week: Week, week_items: WeekItems, settings: Settings) -> tuple[list[Item], Rendered]:
    """The items of one digest and its HTML and text."""
    config = settings.config
    chosen = chosen_items(week_items.items, digest.member)
    rendered = render_digest(
        chosen, summarize(chosen, chosen_items(week_items.previous, digest.member), config.topic_ids), week,
        settings.zone, topic_labels={t.id: t.label for t in config.topics},
        member_names={m.id: m.name for m in config.members},
        closing=chosen_items(week_items.closing, digest.member), member_id=digest.member, now=settings.now,
        histories=week_items.tenders.of(chosen), source_health=settings.health if digest.member is None else (),
        site=settings.site(digest.member))
    return chosen, rendered


def subject(config: Config, week: Week, member: str | None) -> str:
    """The digest's subject line: `digest.subject` with the week, and the member's name for a member."""
    text = (config.digest.subject or "Water market watch — week {week}").format(week=week)
    named = config.member(member) if member else None
    return text + (f" — {named.name}" if named else "")


def messages(digest: Plan, rendered: Rendered, week: Week, settings: Settings) -> list[tuple[str, EmailMessage]]:
    """(digest id, message) for each recipient of one digest."""
    title = subject(settings.config, week, digest.member)
    return [(digest.id, build_message(sender=settings.sender, recipient=to, subject=title, text=rendered.text,
                                      html=rendered.html, now=settings.now)) for to in digest.recipients]


def admin_alert(week: Week, settings: Settings) -> list[tuple[str, EmailMessage]]:
    """("admin", message) for each admin when sources need attention, else nothing."""
    health, admins = settings.health, settings.config.digest.admins
    if not health or not admins:
        return []
    many = "s" if len(health) != 1 else ""
    text = (f"{len(health)} source{many} need attention (week {week}):\n\n"
            + "\n".join(f"- {name}: {problem}" for name, problem in health)
            + "\n\nSee `veille sources` for the whole table; try one with `veille try NAME`.\n")
    html = render_alert(text)
    title = f"veille: {len(health)} source{many} need attention — {week}"
    return [("admin", build_message(sender=settings.sender, recipient=admin, now=settings.now, text=text, html=html,
                                    subject=title)) for admin in admins]
