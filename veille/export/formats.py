"""Render a filtered list of items as a terminal table, CSV, JSON or a standalone HTML page (pure)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence

import jinja2
from rich.console import Console
from rich.table import Table

from veille.models import Item

FORMATS = ("table", "csv", "json", "html")
CSV_COLUMNS = ["id", "kind", "published_at", "title", "url", "source", "country", "region", "topics", "members",
               "deadline_at", "buyer", "notice_id", "cpv", "summary"]


def _row(item: Item) -> dict[str, str]:
    data = item.to_json()
    data["topics"] = ";".join(sorted(item.topics))
    data["members"] = ";".join(sorted(item.members))
    data["cpv"] = ";".join(item.cpv)
    return {k: "" if data.get(k) is None else str(data[k]) for k in CSV_COLUMNS}


def to_csv(items: Sequence[Item]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow(_row(item))
    return out.getvalue()


def to_json(items: Sequence[Item]) -> str:
    return json.dumps([i.to_json() for i in items], ensure_ascii=False, indent=2) + "\n"


def to_table(items: Sequence[Item], width: int | None = None) -> str:
    table = Table(show_lines=False, expand=False)
    for name in ("date", "kind", "title", "source", "country", "topics", "members"):
        table.add_column(name, overflow="fold")
    for item in items:
        when = item.published_at or item.collected_at
        table.add_row(when.strftime("%Y-%m-%d") if when else "", item.kind, item.title, item.source,
                      item.country or "", ", ".join(sorted(item.topics)), ", ".join(sorted(item.members)))
    console = Console(file=io.StringIO(), width=width or 160, record=True, color_system=None)
    console.print(table)
    console.print(f"{len(items)} item{'s' if len(items) != 1 else ''}")
    return console.export_text()


_PAGE = jinja2.Environment(autoescape=True).from_string("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#1d2b36}table{border-collapse:collapse}
th,td{border:1px solid #d5e2e8;padding:4px 8px;text-align:left;vertical-align:top;font-size:13px}
th{background:#e8f1f5}a{color:#0b6e99}</style></head><body>
<h1>{{ title }}</h1><p>{{ filters }}{{ items|length }} item{{ "s" if items|length != 1 }}.</p>
<table><tr><th>date</th><th>kind</th><th>title</th><th>source</th><th>country</th><th>topics</th><th>members</th></tr>
{% for i in items %}<tr><td>{{ (i.published_at or i.collected_at).strftime("%Y-%m-%d") if (i.published_at or i.collected_at) }}</td>
<td>{{ i.kind }}</td><td>{% if i.url %}<a href="{{ i.url }}">{{ i.title }}</a>{% else %}{{ i.title }}{% endif %}</td>
<td>{{ i.source }}</td><td>{{ i.country or "" }}</td><td>{{ i.topics|sort|join(", ") }}</td>
<td>{{ i.members|sort|join(", ") }}</td></tr>
{% endfor %}</table></body></html>
""")


def to_html(items: Sequence[Item], filters: Mapping[str, object]) -> str:
    described = "; ".join(f"{k}: {v}" for k, v in filters.items() if v)
    return _PAGE.render(title="veille report", items=items, filters=f"{described}. " if described else "")


def render(items: Sequence[Item], fmt: str, filters: Mapping[str, object]) -> str:
    """Return `items` in format `fmt` (one of FORMATS)."""
    if fmt == "csv":
        return to_csv(items)
    if fmt == "json":
        return to_json(items)
    if fmt == "html":
        return to_html(items, filters)
    return to_table(items)
