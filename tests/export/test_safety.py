"""Exports cannot be turned against their readers: no live formula in any CSV or XLSX, always valid XML."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from lxml import etree

from tests.conftest import feed_source, write_config
from veille.export.atom import to_atom
from veille.export.formats import to_csv
from veille.export.xlsx import to_xlsx
from veille.models import Item

PARIS = ZoneInfo("Europe/Paris")

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\tcmd", "\rcmd"]
CONTROLS = "bad\x01title\ufffe with\uffff controls\x1f"


def _item(n: int, title: str, **extra: object) -> Item:
    fields: dict = {"source": "eau", "collected_at": datetime(2026, 11, 10, tzinfo=UTC), **extra}
    return Item(id=f"i{n}", kind="news", title=title, **fields)


def test_csv_cells_never_start_a_formula():
    items = [_item(n, title, buyer=title, summary=title) for n, title in enumerate(FORMULAS)]
    rows = list(csv.DictReader(io.StringIO(to_csv(items, lang="en", zone=PARIS).removeprefix("\ufeff"), newline="")))
    assert [r["title"] for r in rows] == [f"'{t}" for t in FORMULAS]
    assert all(r["buyer"].startswith("'") and r["summary"].startswith("'") for r in rows)
    assert rows[0]["url"] == "" and rows[0]["deadline_at"] == ""  # empty cells stay empty


def test_xlsx_cells_are_data_empty_stays_empty_and_controls_do_not_break_it():
    items = [*(_item(n, t) for n, t in enumerate(FORMULAS)), _item(99, CONTROLS)]
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx(items, lang="en", zone=PARIS))).active
    header = [c.value for c in sheet[1]]
    titles = [row[header.index("title")].value for row in sheet.iter_rows(min_row=2)]
    assert titles[:len(FORMULAS)] == [f"'{t}" for t in FORMULAS]
    assert titles[-1] == "badtitle with controls"
    assert all(c.data_type != "f" for row in sheet.iter_rows(min_row=2) for c in row)
    url = header.index("url")
    assert all(row[url].value is None for row in sheet.iter_rows(min_row=2))  # no lone "'" in empty cells


@pytest.mark.parametrize("text", [CONTROLS, "\x00\x08\x0b\x0c", "\ud800 lone surrogate", "ok"])
def test_atom_is_always_well_formed(text):
    feed = to_atom([_item(1, text, summary=text, source=text)], title=text, feed_url="https://x.example/f",
                   page_url="https://x.example/", item_url="https://x.example/items/{id}")
    root = etree.fromstring(feed)
    assert root.tag.endswith("feed") and len(root.findall("{http://www.w3.org/2005/Atom}entry")) == 1


RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
<item><title>=HYPERLINK("http://evil.example","Station d'épuration")</title><link>https://x.example/1</link>
<description>@SUM(A1) ultrafiltration</description><guid>g1</guid><pubDate>Tue, 10 Nov 2026 08:00:00 +0100</pubDate>
</item></channel></rss>"""


def test_every_csv_the_project_writes_is_neutralised(tmp_path, http, veille):
    """The report command's CSV and the digest's items.csv, from a real collect of a hostile feed."""
    http.routes["/hostile.rss"] = lambda request: (200, RSS.encode(), "application/rss+xml")
    directory = write_config(tmp_path / "cfg", [feed_source("eau", http.url("hostile.rss"))])
    assert veille("--config", directory, "collect").code == 0
    out = tmp_path / "report.csv"
    assert veille("--config", directory, "report", "--format", "csv", "-o", out).code == 0
    assert veille("--config", directory, "digest", "--week", "2026-W46").code == 0
    for path in (out, directory / "reports" / "2026-W46" / "items.csv"):  # French by default
        rows = list(csv.DictReader(path.open(encoding="utf-8-sig", newline=""), delimiter=";"))
        assert rows and rows[0]["titre"].startswith("'=HYPERLINK"), path
        assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row.values()), path
