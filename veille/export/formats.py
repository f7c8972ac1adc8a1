"""Render a filtered list of items as a terminal table, CSV, JSON or a standalone HTML page (pure)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from veille import sheets
from veille.export import FORMATS, MEDIA_TYPES
from veille.export.ics import to_ics
from veille.models import Item, Lang

UTC_ZONE = ZoneInfo("UTC")
CSV_COLUMNS = ["id", "kind", "published_at", "title", "url", "source", "country", "region", "relevance", "topics",
               "members", "why", "deadline_at", "deadline_kind", "buyer", "notice_id", "cpv", "value_amount",
               "value_currency", "value_kind", "value_min", "value_max", "summary"]


def why(item: Item) -> str:
    """The reasons of the item's topics and member matches, as one line."""
    topics = [f"{t}: {', '.join(tag.evidence)}" for t, tag in sorted(item.topics.items())]
    members = [f"{m}: {'; '.join(match.reasons)}" for m, match in sorted(item.members.items())]
    return " | ".join(topics + members)


def cells(item: Item, zone: tzinfo) -> dict[str, object]:
    """The item as the CSV and XLSX exports' columns: text (empty when absent), its relevance as a number, its
    times as a clock in `zone` shows them (no zone attached) and a deadline given as a day as a `date`."""
    topics, members = item.topics, item.members
    return {
        "id": item.id, "kind": item.kind, "published_at": sheets.local(item.published_at, zone),
        "title": item.title or "", "url": item.url or "", "source": item.source, "country": item.country or "",
        "region": item.region or "", "relevance": item.relevance(),
        "topics": ";".join(sorted(topics)) if topics else "", "members": ";".join(sorted(members)) if members else "",
        "why": why(item) if topics or members else "",
        "deadline_at": sheets.local(item.local_deadline(zone), zone) if item.deadline_at else None,
        "deadline_kind": item.deadline_kind or "", "buyer": item.buyer or "", "notice_id": item.notice_id or "",
        "cpv": ";".join(item.cpv), "value_amount": _number(item.value_amount),
        "value_currency": item.value_currency or "", "value_kind": item.value_kind or "",
        "value_min": _number(item.value_min), "value_max": _number(item.value_max), "summary": item.summary or "",
    }


def _number(value: float | None) -> float | str:
    return "" if value is None else value


def to_csv(items: Sequence[Item], *, lang: Lang, zone: tzinfo) -> str:
    """The items as CSV for readers of `lang` (see `veille.sheets`), times in `zone`."""
    return sheets.to_csv((cells(item, zone) for item in items), CSV_COLUMNS, lang, zone)


def to_json(items: Sequence[Item]) -> str:
    return json.dumps([i.to_json() for i in items], ensure_ascii=False, indent=2) + "\n"


def _print(table: Table, count: int, width: int | None) -> str:
    console = Console(file=io.StringIO(), width=width or 160, record=True, color_system=None)
    console.print(table)
    console.print(f"{count} item{'s' if count != 1 else ''}")
    return console.export_text()


def _moment(value: datetime | date | None, zone: tzinfo, clock: bool = True) -> str:
    """A time as a clock in `zone` shows it ("2026-11-22 23:30", or the day alone), a day as it is; "" for None."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M" if clock else "%Y-%m-%d")


def to_table(items: Sequence[Item], width: int | None = None, zone: tzinfo = UTC) -> str:
    """The items as a terminal table, their days in `zone` (as the digest and the site date them)."""
    table = Table(show_lines=False, expand=False)
    for name in ("date", "kind", "title", "source", "country", "topics", "members"):
        table.add_column(name, overflow="fold")
    for item in items:
        table.add_row(_moment(item.published_at or item.collected_at, zone, clock=False), item.kind, item.title,
                      item.source, item.country or "", ", ".join(sorted(item.topics)), ", ".join(sorted(item.members)))
    return _print(table, len(items), width)


def to_try_table(items: Sequence[Item], width: int | None = None, zone: ZoneInfo = UTC_ZONE) -> str:
    """What an admin checks before enabling a source, one row per item: its date, title, link, deadline, buyer
    and value (times in `zone`; a deadline given as a day as that day), with its topics and member matches."""
    from veille.i18n import Formats

    fmt = Formats("en", zone)
    table = Table(show_lines=False, expand=False)
    for name in ("date", "title", "link", "deadline", "buyer", "value", "topics", "members"):
        table.add_column(name, overflow="fold")
    for item in items:
        table.add_row(_moment(item.published_at, zone), item.title, item.url, _moment(item.local_deadline(zone), zone),
                      item.buyer or "", fmt.value(item.value_amount, item.value_currency, item.value_kind,
                                                  item.value_min, item.value_max),
                      ", ".join(sorted(item.topics)), ", ".join(sorted(item.members)))
    return _print(table, len(items), width or 200)


def to_html(items: Sequence[Item], filters: Mapping[str, object], lang: Lang = "en", zone: tzinfo = UTC) -> str:
    """An HTML table of `items` for readers of `lang` (dates in `zone`)."""
    from veille.i18n import Formats, template_environment

    described = "; ".join(f"{k}: {v}" for k, v in filters.items() if v)
    described = f"{described}. " if described else ""
    fmt = Formats(lang, zone if isinstance(zone, ZoneInfo) else ZoneInfo("UTC"))
    return template_environment("veille.export", lang).get_template("report.html.j2").render(
        title="veille", items=items, filters=described, why=why, day=fmt.day, lang=fmt.lang)


def render(items: Sequence[Item], fmt: str, filters: Mapping[str, object], now: datetime | None = None, *,
           lang: Lang, zone: tzinfo) -> str:
    """Return `items` in format `fmt` (one of FORMATS); `now` stamps a calendar (default: the wall clock); a CSV
    is for readers of `lang`, with times in `zone` (the calendar's days too)."""
    assert fmt in FORMATS, fmt
    if fmt == "csv":
        return to_csv(items, lang=lang, zone=zone)
    if fmt == "json":
        return to_json(items)
    if fmt == "html":
        return to_html(items, filters, lang, zone)
    if fmt == "ics":
        return to_ics(items, now, zone, lang)
    return to_table(items, zone=zone)


def export(items: Sequence[Item], fmt: str, *, title: str = "veille", feed_url: str = "", page_url: str = "",
           item_url: str = "{id}", now: datetime | None = None, self_url: str | None = None,
           lang: Lang,
           zone: tzinfo) -> tuple[bytes, str]:
    """Return `items` in the site's download format `fmt` (a key of MEDIA_TYPES) and its media type; CSV and XLSX
    are for readers of `lang`, with times in `zone`."""
    if fmt == "xlsx":
        from veille.export.xlsx import to_xlsx

        return to_xlsx(items, lang=lang, zone=zone), MEDIA_TYPES[fmt]
    if fmt == "atom":
        from veille.export.atom import to_atom

        feed = to_atom(items, title=title, feed_url=feed_url, page_url=page_url, item_url=item_url, now=now, lang=lang,
                       zone=zone,
                       self_url=self_url)
        return feed, MEDIA_TYPES[fmt]
    return render(items, fmt, {}, now, lang=lang, zone=zone).encode("utf-8"), MEDIA_TYPES[fmt]
