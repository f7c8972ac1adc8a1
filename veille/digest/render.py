"""Render a digest to HTML (CSS inlined, sanitised) and plain text with Jinja2 (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import css_inline
import jinja2
import nh3
from markupsafe import Markup, escape

from veille.digest.summarize import Summary, Table
from veille.digest.weeks import Week
from veille.models import KIND_LABELS, KIND_ORDER, Item

SUMMARY_CHARS = 320

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("veille.digest", "templates"),
    autoescape=jinja2.select_autoescape(["html", "html.j2"]),
    trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
)
# What the HTML body may contain after rendering: our own markup, nothing a source could add.
_ALLOWED_TAGS = {"div", "p", "h1", "h2", "h3", "table", "tr", "th", "td", "a", "span", "strong", "em", "br"}
_ALLOWED_ATTRS = {"*": {"class"}, "a": {"href"}}


@dataclass(frozen=True)
class Rendered:
    heading: str
    html: str
    text: str


def _date(value: datetime | date | None, zone: ZoneInfo, with_time: bool = False) -> str:
    if value is None:
        return ""
    if not isinstance(value, datetime):  # a deadline given as a day: that day, no time
        return value.strftime("%a %d %b %Y")
    local = value.astimezone(zone)
    return local.strftime("%a %d %b %Y %H:%M" if with_time else "%a %d %b %Y")


@dataclass(frozen=True)
class SiteLinks:
    """Addresses on the reports site (VEILLE_SITE_URL), signed with a member's token in that member's digest."""

    base: str
    token: str | None = None

    def url(self, path: str, **params: str) -> str:
        pairs = ([("token", self.token)] if self.token else []) + list(params.items())
        return f"{self.base}{path}" + (f"?{urlencode(pairs)}" if pairs else "")


def _item_view(item: Item, zone: ZoneInfo, topic_labels: Mapping[str, str],
               member_names: Mapping[str, str], member_id: str | None,
               history: Sequence[Item] = (), site: SiteLinks | None = None) -> dict[str, object]:
    summary = item.summary if len(item.summary) <= SUMMARY_CHARS else item.summary[:SUMMARY_CHARS - 1] + "…"
    by_score = sorted(item.topics, key=lambda t: -item.topics[t].score)
    return {
        "title": item.title, "url": item.url, "source": item.source,
        "date": _date(item.published_at or item.collected_at, zone),
        "country": item.country, "buyer": item.buyer,
        "deadline": _date(item.local_deadline(zone), zone, with_time=True),
        "summary": summary,
        "topics": [topic_labels.get(t, t) for t in by_score],
        "topic_links": [(topic_labels.get(t, t), site.url("/", topic=t) if site else None) for t in by_score],
        "page": site.url(f"/items/{item.id}") if site else None,
        "members": [member_names.get(m, m) for m in sorted(item.members)],
        "reasons": item.members[member_id].reasons if member_id and member_id in item.members else [],
        **_cluster_view(item, history, zone),
    }


def _cluster_view(item: Item, history: Sequence[Item], zone: ZoneInfo) -> dict[str, object]:
    """A tender's notices make its history; other copies of a story are where else it was seen."""
    if item.kind == "tender":
        return {"history": [{"date": _date(h.published_at or h.collected_at, zone), "url": h.url, "source": h.source,
                             "type": (h.notice_type or "notice").replace("-", " "), "current": h.id == item.id}
                            for h in history], "also_in": []}
    return {"history": [], "also_in": sorted({h.source for h in history if h.source != item.source})}


def _sort_key(item: Item, member: str | None, zone: ZoneInfo) -> tuple[object, ...]:
    """Most relevant first; then the soonest deadline (tenders) or the newest."""
    when = item.published_at or item.collected_at
    if item.kind == "tender":
        closes = item.closes_at(zone)
        return (-item.relevance(member), closes is None, closes or when, item.title)
    return (-item.relevance(member), -(when.timestamp() if when else 0), item.title)


def _text_table(table: Table) -> str:
    cells = [table.columns, *[[str(c) for c in row] for row in table.rows]]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(table.columns))]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                                    strict=True)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join("  " + line.rstrip() for line in lines) if table.rows else "  nothing this week"


def _sections(listed: Sequence[Item], zone: ZoneInfo, topic_labels: Mapping[str, str],
              member_names: Mapping[str, str], member_id: str | None, histories: Mapping[str, Sequence[Item]],
              site: SiteLinks | None) -> list[dict[str, Any]]:
    """One section per kind (in KIND_ORDER), its items most relevant first."""
    sections: list[dict[str, Any]] = []
    for kind in sorted({i.kind for i in listed}, key=lambda k: KIND_ORDER.get(k, 99)):
        chosen = sorted((i for i in listed if i.kind == kind), key=lambda i: _sort_key(i, member_id, zone))
        sections.append({"label": KIND_LABELS.get(kind, kind),
                         "entries": [_item_view(i, zone, topic_labels, member_names, member_id,
                                                histories.get(i.id, ()), site) for i in chosen]})
    return sections


def _tables(summary: Summary) -> list[dict[str, Any]]:
    """The summary tables, each with its title, columns, rows and a plain-text rendering."""
    titled = (("Items per topic and kind", summary.by_kind_topic),
              ("This week against the previous one", summary.week_over_week),
              ("Items per region", summary.by_region), ("Top sources", summary.top_sources))
    return [{"title": title, **vars(table), "text": _text_table(table)} for title, table in titled]


def _site_context(site: SiteLinks | None, start: datetime, last_day: date, zone: ZoneInfo, member_id: str | None,
                  topic_labels: Mapping[str, str], listed: Sequence[Item]) -> dict[str, object] | None:
    """Links to the week and to each topic of the week on the reports site (None without a site)."""
    if site is None:
        return None
    return {
        "week": site.url("/", since=start.astimezone(zone).date().isoformat(), until=last_day.isoformat(),
                         **({"member": member_id} if member_id else {})),
        "topics": [(topic_labels.get(t, t), site.url("/", topic=t)) for t in topic_labels
                   if any(t in i.topics for i in listed)],
    }


def render_digest(items: Sequence[Item], summary: Summary, week: Week, zone: ZoneInfo, *,
                  topic_labels: Mapping[str, str], member_names: Mapping[str, str],
                  closing: Sequence[Item] = (), member_id: str | None = None,
                  now: datetime, title: str = "Water market watch",
                  histories: Mapping[str, Sequence[Item]] | None = None,
                  source_health: Sequence[tuple[str, str]] = (), site: SiteLinks | None = None) -> Rendered:
    """Return the HTML and text digest of one week (for the working group, or one member); with `site`,
    topics and items link to their views on the reports site."""
    start, end = week.bounds(zone)
    last_day = end.astimezone(zone).date() - timedelta(days=1)
    member = member_names.get(member_id, member_id) if member_id else None
    heading = f"{title} — week {week}" + (f" — {member}" if member else "")
    listed = [i for i in items if i.topics or i.members]  # the rest is counted, not listed
    context = {
        "heading": heading, "member": member, "summary": summary, "tables": _tables(summary),
        "sections": _sections(listed, zone, topic_labels, member_names, member_id, histories or {}, site),
        "period": f"{start.astimezone(zone):%a %d %b} – {last_day:%a %d %b %Y}",
        "closing": [_item_view(i, zone, topic_labels, member_names, None) for i in closing
                    if i.topics or i.members],
        "unlisted": len(items) - len(listed),
        "source_health": [{"source": s, "problem": p} for s, p in source_health],
        "generated": _date(now, zone, with_time=True), "tz": str(zone),
        "site": _site_context(site, start, last_day, zone, member_id, topic_labels, listed),
    }
    body = _ENV.get_template("body.html.j2").render(context)
    clean = nh3.clean(body, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS, url_schemes={"http", "https"},
                      link_rel="noopener noreferrer")
    page = _ENV.get_template("page.html.j2").render(heading=heading, body=Markup(clean))
    html = css_inline.inline(page)
    text = _ENV.get_template("digest.txt.j2").render(context)
    return Rendered(heading, html, text)


def render_alert(text: str) -> str:
    """The HTML part of the admins' source-health alert: the text, escaped, in a pre-formatted block."""
    return css_inline.inline(_ENV.get_template("page.html.j2").render(
        heading="veille — sources needing attention",
        body=Markup(f"<div class=\"wrap\"><pre>{escape(text)}</pre></div>")))
