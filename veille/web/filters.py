"""A filtered view of the archive from a query string, and back (pure: no I/O, no SQL).

Parameters (the same on `/` and on every export): `topic` (repeatable: all must match), `kind`,
`region`, `source` (repeatable: any may match), `member`, `q` (full-text), `since`, `until`
(YYYY-MM-DD, local days; `until` is inclusive), `open=1` (tenders whose deadline is still ahead),
`sort=deadline` (the soonest deadline first; default: the newest first), `copies=all` (every copy of a story
and every notice of a tender; default: one row per cluster, as the digest lists them), `all=1` (items with no
topic and no member match too; default: hidden, as in the digest), `page` (HTML list only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from veille.errors import InputError
from veille.models import KINDS, REGIONS, ItemQuery

MULTI = ("topic", "kind", "region", "source")
SWITCHES = {"open": "1", "copies": "all", "all": "1"}  # parameter: the value that turns it on
SORTS = ("date", "deadline")  # the newest first (default); the soonest deadline first, none last
MAX_QUERY = 200
FIRST_YEAR, LAST_YEAR = 1900, 2100  # dates outside make no sense in the archive (and overflow time zones)


@dataclass(frozen=True)
class View:
    """What a reader asked to see."""

    topics: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    member: str | None = None
    q: str = ""
    since: date | None = None
    until: date | None = None
    open: bool = False  # tenders whose deadline is still ahead only
    sort: str = "date"  # one of SORTS
    copies: bool = False  # every copy and notice, instead of one row per cluster
    all: bool = False  # items with no topic and no member match too
    page: int = 1

    def query(self, zone: ZoneInfo, limit: int | None = None, offset: int = 0, *, now: datetime | None = None,
              tagged_by: tuple[str, ...] | None = None) -> ItemQuery:
        """The store query for this view: local days turned into UTC bounds; `now` is when deadlines close (needed
        with `open`), `tagged_by` the members whose matches keep an item in view (None: every member's)."""
        def midnight(day: date | None) -> datetime | None:
            return datetime.combine(day, time(0), tzinfo=zone) if day else None

        if self.open and now is None:
            raise ValueError("an open-tenders view needs the time now")
        return ItemQuery(topics=self.topics, kinds=self.kinds, regions=self.regions, sources=self.sources,
                         member=self.member, text=self.q or None, since=midnight(self.since),
                         until=midnight(self.until + timedelta(days=1)) if self.until else None,
                         deadline_from=now if self.open else None, limit=limit, offset=offset,
                         one_per_cluster=not self.copies, tagged=not self.all, tagged_by=tagged_by,
                         order="deadline" if self.sort == "deadline" else "newest")

    def params(self, page: bool = False) -> list[tuple[str, str]]:
        """The view as query-string pairs, in a stable order (the page number only when asked and > 1)."""
        pairs = [("topic", t) for t in self.topics] + [("kind", k) for k in self.kinds]
        pairs += [("region", r) for r in self.regions] + [("source", s) for s in self.sources]
        if self.member:
            pairs.append(("member", self.member))
        if self.q:
            pairs.append(("q", self.q))
        if self.since:
            pairs.append(("since", self.since.isoformat()))
        if self.until:
            pairs.append(("until", self.until.isoformat()))
        pairs += [(name, on) for name, on in SWITCHES.items() if getattr(self, name)]
        if self.sort != "date":
            pairs.append(("sort", self.sort))
        if page and self.page > 1:
            pairs.append(("page", str(self.page)))
        return pairs

    def url(self, path: str = "/", page: bool = False) -> str:
        query = urlencode(self.params(page))
        return f"{path}?{query}" if query else path

    def toggle(self, name: str, value: str) -> View:
        """This view with `value` added to or removed from filter `name` (back to page 1)."""
        if name in MULTI:
            attr = f"{name}s"
            current: tuple[str, ...] = getattr(self, attr)
            changes: dict[str, Any] = {"page": 1}
            if name != "topic":  # one value at a time for the other facets: a click replaces it
                changes[attr] = () if value in current else (value,)
            else:
                changes[attr] = tuple(v for v in current if v != value) if value in current else (*current, value)
            return replace(self, **changes)
        if name == "member":
            return replace(self, member=None if self.member == value else value, page=1)
        raise ValueError(name)

    def without(self, name: str, value: str = "") -> View:
        """This view without one filter value (for a chip's remove link)."""
        changes: dict[str, Any] = {"page": 1}
        if name in MULTI:
            attr = f"{name}s"
            changes[attr] = tuple(v for v in getattr(self, attr) if v != value)
        elif name in SWITCHES:
            changes[name] = False
        else:
            changes[name] = "" if name == "q" else None
        return replace(self, **changes)

    def switched(self, name: str) -> View:
        """This view with switch `name` (open, copies, all) flipped, back to page 1."""
        if name not in SWITCHES:
            raise ValueError(name)
        changes: dict[str, Any] = {name: not getattr(self, name), "page": 1}
        return replace(self, **changes)

    def sorted_by(self, sort: str) -> View:
        """This view in another order (one of SORTS), back to page 1."""
        if sort not in SORTS:
            raise ValueError(sort)
        return replace(self, sort=sort, page=1)

    def at_page(self, page: int) -> View:
        return replace(self, page=page)

    def chips(self, labels: dict[str, dict[str, str]]) -> list[tuple[str, str, str]]:
        """(filter name, shown label, URL without it) for every active filter."""
        out = []
        for name in MULTI:
            for value in getattr(self, f"{name}s"):
                out.append((name, labels.get(name, {}).get(value, value), self.without(name, value).url()))
        if self.member:
            out.append(("member", labels.get("member", {}).get(self.member, self.member),
                        self.without("member").url()))
        if self.q:
            out.append(("search", f"“{self.q}”", self.without("q").url()))
        if self.since:
            out.append(("since", self.since.isoformat(), self.without("since").url()))
        if self.until:
            out.append(("until", self.until.isoformat(), self.without("until").url()))
        if self.open:
            out.append(("open", labels.get("open", {}).get("1", "open"), self.without("open").url()))
        return out

    @property
    def empty(self) -> bool:
        return not self.params()


def _day(name: str, values: Sequence[str]) -> date | None:
    text = (values[-1] if values else "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}={text[:40]!r} is not a date; write YYYY-MM-DD") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InputError(f"{name}={text!r} is out of range: years {FIRST_YEAR} to {LAST_YEAR}")
    return day


def _known(name: str, values: Iterable[str], valid: Sequence[str]) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(v for v in values if v))
    for value in out:
        if value not in valid:
            raise InputError(f"unknown {name} {value!r}; valid: {', '.join(valid)}")
    return out


def _member(values: list[str], members: Sequence[str]) -> str | None:
    """The last member asked for, None when none is; InputError for a member not in members.yaml."""
    member = next((v for v in reversed(values) if v), None)
    if member is not None and member not in members:
        raise InputError(f"unknown member {member!r}; valid: {', '.join(members)}")
    return member


def _switch(name: str, values: Sequence[str]) -> bool:
    """Whether switch `name` is on (its last value); InputError for a value that is neither on nor off."""
    text = values[-1] if values else ""
    on = SWITCHES[name]
    if text not in ("", "0", on):
        raise InputError(f"{name}={text[:40]!r}: write {name}={on} or leave it out")
    return text == on


def _sort(values: Sequence[str]) -> str:
    text = (values[-1] if values else "") or "date"
    if text not in SORTS:
        raise InputError(f"unknown sort {text[:40]!r}; valid: {', '.join(SORTS)}")
    return text


def _page(text: str) -> int:
    """The page number (at most 10,000); InputError when it is not a positive number."""
    digits = text.lstrip("0")
    if not (text.isascii() and text.isdigit()) or not digits or len(text) > 9:  # ASCII digits, a sane length
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise InputError(f"page={shown!r} is not a page number (1 to 10000)")
    return min(int(digits), 10_000)


def parse(pairs: Iterable[tuple[str, str]], topics: Sequence[str], members: Sequence[str]) -> View:
    """The view asked for by query-string pairs; InputError names the first bad parameter. Any source
    name is accepted: the archive keeps the items of sources since removed from sources.yaml."""
    got: dict[str, list[str]] = {}
    for key, value in pairs:
        got.setdefault(key, []).append(value.strip())
    member = _member(got.get("member", []), members)
    page = _page((got.get("page") or ["1"])[-1] or "1")
    since, until = _day("since", got.get("since", [])), _day("until", got.get("until", []))
    if since and until and until < since:
        raise InputError(f"until={until} is before since={since}")
    return View(
        topics=_known("topic", got.get("topic", []), topics), kinds=_known("kind", got.get("kind", []), KINDS),
        regions=_known("region", got.get("region", []), REGIONS),
        sources=tuple(dict.fromkeys(v[:200] for v in got.get("source", []) if v)), member=member,
        q=" ".join((got.get("q") or [""])[-1].split())[:MAX_QUERY], since=since, until=until,
        sort=_sort(got.get("sort", [])), page=page, **{name: _switch(name, got.get(name, [])) for name in SWITCHES})
