"""Render a digest to HTML (CSS inlined, sanitised) and plain text with Jinja2, in the reader's language
(pure functions).

The order is the reader's: three headline counts, the tenders closing soon, the new calls for tenders, then
regulation, funding calls, events and news, and the week in numbers at the end. Every count is made from the
same listed items (tagged or matched, one per tender or story), so the headline, the sections, the numbers
and the site's view of the week agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import css_inline
import nh3
from markupsafe import Markup, escape

from veille.cpv import cpv_label
from veille.digest.summarize import Table, numbers
from veille.digest.weeks import Week
from veille.i18n import N_, Formats, template_environment
from veille.ids import NOTICE_TYPES
from veille.models import KIND_LABELS, KIND_ORDER, REGION_LABELS, Item
from veille.reasons import explain
from veille.tokens import GROUP, VERDICTS, verdict_path

SUMMARY_CHARS = 320
BAR_STEPS = 10  # the trend's bars are drawn in this many heights (CSS classes b0…b10, no inline style)
# What the HTML body may contain after rendering: our own markup, nothing a source could add.
_ALLOWED_TAGS = {"div", "p", "h1", "h2", "h3", "table", "tr", "th", "td", "a", "span", "strong", "em", "br", "ul",
                 "li"}
_ALLOWED_ATTRS = {"*": {"class"}, "a": {"href"}, "td": {"class", "valign", "colspan"}}


@dataclass(frozen=True)
class Rendered:
    heading: str
    html: str
    text: str


@dataclass(frozen=True)
class SiteLinks:
    """Addresses on the reports site (VEILLE_SITE_URL), signed with a member's token in that member's digest."""

    base: str
    token: str | None = None
    reader: str = GROUP  # whose verdicts the item's links record: the member, or the working group
    sign: Callable[[str], str | None] | None = None  # item id -> signature of the reader's verdict links

    def url(self, path: str, **params: str) -> str:
        pairs = ([("token", self.token)] if self.token else []) + list(params.items())
        return f"{self.base}{path}" + (f"?{urlencode(pairs)}" if pairs else "")

    def verdicts(self, item_id: str) -> dict[str, str]:
        """{verdict: address} of the reader's "relevant" and "not for us" links on an item (none unsigned)."""
        code = self.sign(item_id) if self.sign else None
        return {} if code is None else {v: self.base + verdict_path(self.reader, item_id, v, code) for v in VERDICTS}


@dataclass(frozen=True)
class Trend:
    """Items per week over the weeks before the digest's (oldest first), per kind and per topic."""

    weeks: list[Week] = field(default_factory=list)
    kinds: dict[str, list[int]] = field(default_factory=dict)
    topics: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Reader:
    """Who reads a digest and how: the language, the zone, the member (None: the working group), the names."""

    fmt: Formats
    topic_labels: Mapping[str, str]
    member_names: Mapping[str, str]
    member_id: str | None = None
    see_others: bool = True  # show which members an item matches (the working group, or members_see_each_other)
    per_section: int = 0  # entries printed per section, the most relevant (0: all); the rest are counted

    def _(self, text: str) -> str:
        return self.fmt.gettext(text)


def _item_view(item: Item, reader: Reader, now: datetime, history: Sequence[Item] = (),
               site: SiteLinks | None = None) -> dict[str, object]:
    fmt = reader.fmt
    summary = item.summary if len(item.summary) <= SUMMARY_CHARS else item.summary[:SUMMARY_CHARS - 1] + "…"
    by_score = sorted(item.topics, key=lambda t: -item.topics[t].score)
    member = reader.member_id
    closes = item.closes_at(fmt.zone)
    deadline = fmt.moment(item.local_deadline(fmt.zone))
    left = fmt.until(closes, now) if closes and closes >= now else ""
    closed = bool(closes and closes < now)
    note = ""  # "date limite lun. 4 déc. 2026, 12:00 (dans 18 jours)", or "clos le …" once passed
    if closes is not None:
        note = reader._("closed {when}").format(when=deadline) if closed else \
            reader._("{due} {when} ({left})").format(due=fmt.due(item.deadline_kind), when=deadline, left=left)
    return {
        "title": item.title, "url": item.url, "source": item.source,
        "date": fmt.day(item.published_at or item.collected_at),
        "country": fmt.country(item.country), "buyer": item.buyer,
        "deadline": deadline, "left": left, "closed": closed,
        "deadline_note": note,
        "value": fmt.value(item.value_amount, item.value_currency, item.value_kind, item.value_min, item.value_max),
        "cpv": next((label for label in (cpv_label(c, fmt.lang) for c in item.cpv) if label), ""),
        "summary": summary,
        "topics": [reader.topic_labels.get(t, t) for t in by_score],
        "topic_links": [(reader.topic_labels.get(t, t), site.url("/", topic=t) if site else None) for t in by_score],
        "page": site.url(f"/items/{item.id}") if site else None,
        "verdicts": site.verdicts(item.id) if site else {},
        "members": [reader.member_names.get(m, m) for m in sorted(item.members)] if reader.see_others else [],
        "reasons": [explain(r, fmt.lang, reader.topic_labels) for r in item.members[member].reasons]
        if member and member in item.members else [],
        **_cluster_view(item, history, fmt),
    }


def _cluster_view(item: Item, history: Sequence[Item], fmt: Formats) -> dict[str, object]:
    """A tender's notices make its history; other copies of a story are where else it was seen."""
    if item.kind == "tender":
        return {"history": [{"date": fmt.day(h.published_at or h.collected_at), "url": h.url, "source": h.source,
                             "type": fmt.gettext(NOTICE_TYPES.get(h.notice_type or "", NOTICE_TYPES[""])),
                             "current": h.id == item.id} for h in history], "also_in": []}
    return {"history": [], "also_in": sorted({h.source for h in history if h.source != item.source})}


def _sort_key(item: Item, member: str | None, zone: ZoneInfo) -> tuple[object, ...]:
    """Most relevant first; then the soonest deadline (tenders) or the newest."""
    when = item.published_at or item.collected_at
    if item.kind == "tender":
        closes = item.closes_at(zone)
        return (-item.relevance(member), closes is None, closes or when, item.title)
    return (-item.relevance(member), -(when.timestamp() if when else 0), item.title)


def _printed(entries: Sequence[Item], reader: Reader) -> Sequence[Item]:
    """The entries a section prints: the first `reader.per_section` (all with 0)."""
    return entries[:reader.per_section] if reader.per_section else entries


def _sections(listed: Sequence[Item], reader: Reader, now: datetime, histories: Mapping[str, Sequence[Item]],
              site: SiteLinks | None, closing_ids: set[str], week_view: Mapping[str, str]) -> list[dict[str, Any]]:
    """One section per kind (in KIND_ORDER), its items most relevant first, the first `reader.per_section` printed
    (the others counted, with their view on the site: `week_view` are its parameters); a tender already in
    "closing soon" is counted in its section but not printed again."""
    sections: list[dict[str, Any]] = []
    for kind in sorted({i.kind for i in listed}, key=lambda k: KIND_ORDER.get(k, 99)):
        of_kind = sorted((i for i in listed if i.kind == kind),
                         key=lambda i: _sort_key(i, reader.member_id, reader.fmt.zone))
        shown = [i for i in of_kind if (i.cluster_id or i.id) not in closing_ids]
        printed = _printed(shown, reader)
        sections.append({"kind": kind, "label": reader._(KIND_LABELS.get(kind, kind)), "count": len(of_kind),
                         "above": len(of_kind) - len(shown), "more": len(shown) - len(printed),
                         "more_url": site.url("/", kind=kind, **week_view) if site else None,
                         "entries": [_item_view(i, reader, now, histories.get(i.id, ()), site) for i in printed]})
    return sections


def _labelled(table: Table, reader: Reader, labels: Mapping[str, str]) -> dict[str, Any]:
    """A numbers table for readers: labels instead of IDs, no row or column of zeros only."""
    keep = [j for j in range(1, len(table.columns))
            if any(row[j] for row in table.rows) or table.columns[j] in ("change",)]
    rows = [row for row in table.rows if any(row[j] for j in keep if table.columns[j] != "change")]
    column = [reader._(COLUMN_LABELS.get(str(c), str(c))) if str(c) in COLUMN_LABELS else
              reader._(KIND_LABELS.get(str(c), str(c))) for c in table.columns]
    fmt = reader.fmt
    return {
        "columns": [column[0], *(column[j] for j in keep)],
        "rows": [[labels.get(str(row[0]), str(row[0])),
                  *((fmt.signed(int(row[j])) if table.columns[j] == "change" else fmt.number(int(row[j])))  # type: ignore[call-overload]
                    for j in keep)]
                 for row in rows],
    }


COLUMN_LABELS = {"topic": N_("topic"), "all kinds": N_("all kinds"), "region": N_("region"), "items": N_("items"),
                 "kind": N_("kind"), "this week": N_("this week"), "previous week": N_("previous week"),
                 "change": N_("change"), "source": N_("source")}


def _tables(listed: Sequence[Item], previous: Mapping[str, int], reader: Reader, topic_order: Sequence[str]
            ) -> list[dict[str, Any]]:
    """The week in numbers: each table with its title, labelled, without empty rows or columns."""
    kinds = {k: reader._(v) for k, v in KIND_LABELS.items()} | {"all": reader._("all kinds")}
    regions = {k: reader._(v) for k, v in REGION_LABELS.items()}
    tables = numbers(listed, previous, topic_order)
    titled: list[tuple[str, Table, Mapping[str, str]]] = [
        (reader._("This week against the previous one"), tables.week_over_week, kinds),
        (reader._("Items per topic and kind"), tables.by_kind_topic,
         {**reader.topic_labels, "(none)": reader._("no topic")}),
        (reader._("Items per region"), tables.by_region, regions),
        (reader._("Top sources"), tables.top_sources, {})]
    out = []
    for title, table, labels in titled:
        shown = _labelled(table, reader, labels)
        if shown["rows"]:
            out.append({"title": title, **shown, "text": _text_table(shown)})
    return out


def _text_table(table: Mapping[str, Any]) -> str:
    cells = [table["columns"], *table["rows"]]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(table["columns"]))]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                                    strict=True)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join("  " + line.rstrip() for line in lines)


def _trend(trend: Trend, reader: Reader) -> dict[str, Any] | None:
    """The 12-week chart: one row of bars per kind and per reader topic (heights in BAR_STEPS classes), with the
    numbers as its text."""
    if not trend.weeks:
        return None
    series = [(reader._(KIND_LABELS.get(k, k)), v) for k, v in sorted(trend.kinds.items(),
                                                                       key=lambda kv: KIND_ORDER.get(kv[0], 99))]
    series += [(reader.topic_labels.get(t, t), v) for t, v in trend.topics.items()]
    series = [(label, values) for label, values in series if any(values)]
    if not series:
        return None
    rows = []
    for label, values in series:
        top = max(values)
        rows.append({"label": label, "bars": [{"n": v, "step": round(BAR_STEPS * v / top) if top else 0}
                                              for v in values],
                     "text": " ".join(reader.fmt.number(v) for v in values), "last": reader.fmt.number(values[-1])})
    first, last = trend.weeks[0], trend.weeks[-1]
    return {"rows": rows, "first": f"{first.number:02d}", "last": f"{last.number:02d}", "weeks": len(trend.weeks)}


def _site_context(site: SiteLinks | None, week_view: Mapping[str, str], topic_labels: Mapping[str, str],
                  listed: Sequence[Item]) -> dict[str, object] | None:
    """Links to the week (`week_view`: the site's parameters for it) and to each topic of the week on the reports
    site (None without a site)."""
    if site is None:
        return None
    return {
        "week": site.url("/", **week_view),
        "topics": [(label, site.url("/", topic=t)) for t, label in topic_labels.items()
                   if any(t in i.topics for i in listed)],
    }


def _per_kind(previous: Sequence[Item] | Mapping[str, int]) -> Mapping[str, int]:
    """{kind: count} of the previous week's listed items."""
    if isinstance(previous, Mapping):
        return previous
    counts: dict[str, int] = {}
    for item in listed_items(previous):
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return counts


def listed_items(items: Sequence[Item]) -> list[Item]:
    """The items a digest lists and counts: those with a topic or a member match (the rest is in items.csv)."""
    return [i for i in items if i.topics or i.members]


@dataclass(frozen=True)
class DigestContent:
    """What one digest shows of its week."""

    items: Sequence[Item]
    # the previous week's listed items, or their counts per kind; None: the week before the digest's in the trend
    # (as the store counts it: one per tender or story, tagged or matched)
    previous: Sequence[Item] | Mapping[str, int] | None = None
    closing: Sequence[Item] = ()
    histories: Mapping[str, Sequence[Item]] = field(default_factory=dict)
    # the trend, or what gives it when first needed (the store may still be counting while items are laid out)
    trend: Trend | Callable[[], Trend] = field(default_factory=Trend)
    feedback: Feedback | None = None  # the working group's: the week's verdicts and the suggestions pending


@dataclass(frozen=True)
class Feedback:
    """The week's verdicts from the digest's and the site's links, and the changes `veille suggest` proposes."""

    relevant: int = 0
    not_relevant: int = 0
    suggestions: int = 0


def render_digest(content: DigestContent, week: Week, reader: Reader, *, now: datetime, topic_order: Sequence[str] = (),
                  title: str | None = None, source_health: Sequence[tuple[str, str]] = (),
                  site: SiteLinks | None = None) -> Rendered:
    """Return the HTML and text digest of one week (for the working group, or one member); with `site`,
    topics and items link to their views on the reports site."""
    fmt = reader.fmt
    zone = fmt.zone
    start, end = week.bounds(zone)
    last_day = end.astimezone(zone).date() - timedelta(days=1)
    member = reader.member_names.get(reader.member_id, reader.member_id) if reader.member_id else None
    title = title or reader._("Water market watch")
    week_word = reader._("week")
    heading = f"{title} — {week_word} {week.number}" + (f" — {member}" if member else "")
    listed = listed_items(content.items)
    closing = listed_items(content.closing)
    closing_ids = {i.cluster_id or i.id for i in closing}
    own = {"member": reader.member_id} if reader.member_id else {}  # a member's views on the site are its own
    week_view = {"since": start.astimezone(zone).date().isoformat(), "until": last_day.isoformat(), **own}
    sections = _sections(listed, reader, now, content.histories, site, closing_ids, week_view)
    closing_views = [_item_view(i, reader, now, site=site) for i in _printed(closing, reader)]
    trend = content.trend() if callable(content.trend) else content.trend  # laid out first, then counted
    before = _per_kind(content.previous) if content.previous is not None else {
        kind: counts[-2] for kind, counts in trend.kinds.items() if len(counts) >= 2}
    count = {s["kind"]: s["count"] for s in sections}
    context = {
        "heading": heading, "member": member, "lang": fmt.lang,
        "period": fmt.period(start.astimezone(zone).date(), last_day),
        "headline": {"tenders": count.get("tender", 0), "closing": len(closing),
                     "regulation": count.get("regulation", 0)},
        "total": len(listed), "previous": sum(before.values()),
        "closing": closing_views, "closing_more": len(closing) - len(closing_views),
        "closing_url": site.url("/", kind="tender", open="1", sort="deadline", **own) if site else None,
        "feedback": content.feedback,
        "sections": sections,
        "tables": _tables(listed, before, reader, topic_order),
        "trend": _trend(trend, reader),
        "unlisted": len(content.items) - len(listed),
        "source_health": [{"source": s, "problem": p} for s, p in source_health],
        "generated": fmt.moment(now), "tz": str(zone),
        "site": _site_context(site, week_view, reader.topic_labels, listed),
    }
    env = template_environment("veille.digest", fmt.lang)
    body = env.get_template("body.html.j2").render(context)
    clean = nh3.clean(body, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS, url_schemes={"http", "https"},
                      link_rel="noopener noreferrer")
    page = env.get_template("page.html.j2").render(heading=heading, body=Markup(clean), lang=fmt.lang)
    html = css_inline.inline(page)
    text = env.get_template("digest.txt.j2").render(context)
    return Rendered(heading, html, text)


def render_alert(text: str, heading: str, lang: str) -> str:
    """The HTML part of the admins' source-health alert: the text, escaped, in a pre-formatted block."""
    env = template_environment("veille.digest", lang)
    return css_inline.inline(env.get_template("page.html.j2").render(
        heading=heading, lang=lang, body=Markup(f"<div class=\"wrap\"><pre>{escape(text)}</pre></div>")))
