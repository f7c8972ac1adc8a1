"""A tender deadline given as a day without a time: shown as that day everywhere, open until the end of that day
in the buyer's zone (digest "closing soon", the site, the store's open tenders), whatever "now" is."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import openpyxl
import pytest

from tests.conftest import write_config
from veille import pipeline
from veille.digest.weeks import Week
from veille.export.formats import export
from veille.i18n import Formats
from veille.models import ItemQuery
from veille.web.site import Reading, card

PARIS = ZoneInfo("Europe/Paris")
TITLE = "Extension de la station d'épuration de Muret"
DAY = date(2026, 12, 4)  # a Friday; BOAMP gives no time for it
LAST_MINUTE = datetime(2026, 12, 4, 23, 59, tzinfo=PARIS)  # 22:59 UTC
NEXT_DAY = datetime(2026, 12, 5, 0, 0, 30, tzinfo=PARIS)  # 23:00:30 UTC on the 4th: still the 4th in UTC
WEEK = Week(2026, 49)


@pytest.fixture
def day_tender(tmp_path, http, veille):
    """A BOAMP notice whose deadline is "2026-12-04" and a TED one closing on 3 Dec at 12:00, collected."""
    donnees = {"OBJET": {"CPV": {"PRINCIPAL": "45252127"}}}
    http.routes["/boamp/records"] = lambda r: (200, json.dumps({"total_count": 1, "results": [{
        "idweb": "26-90001", "objet": TITLE, "nomacheteur": "Ville de Muret", "dateparution": "2026-11-04",
        "datelimitereponse": DAY.isoformat(), "nature": "APPEL_OFFRE", "donnees": json.dumps(donnees),
        "gestion": "{}"}]}).encode(), "application/json")
    http.routes["/v3/notices/search"] = lambda r: (200, json.dumps({"notices": [{
        "publication-number": "700001-2026", "notice-type": "cn-standard", "publication-date": "2026-11-03+01:00",
        "notice-title": {"fra": "France – Station de pompage de Lavaur"}, "buyer-country": ["FRA"],
        "classification-cpv": ["45252127"], "deadline-receipt-tender-date-lot": ["2026-12-03+01:00"],
        "deadline-receipt-tender-time-lot": ["12:00:00+01:00"]}], "iterationNextToken": None}).encode(),
        "application/json")
    sources = [
        {"name": "boamp", "kind": "tender", "type": "boamp", "url": http.url("/boamp/records"),
         "allow_private_network": True, "options": {"departments": ["31"], "page_delay": 0}},
        {"name": "ted", "kind": "tender", "type": "ted", "url": http.url("/v3/notices/search"),
         "allow_private_network": True, "options": {"cpv": ["452521*"], "page_delay": 0}},
    ]
    directory = write_config(tmp_path / "cfg", sources)
    assert veille("--config", directory, "collect").code == 0
    return directory


def _digest_text(directory, now: datetime) -> str:
    ctx = pipeline.open_context(directory)
    try:
        folder = directory / f"reports-{now:%d%H%M%S}"
        pipeline.build_digest(ctx, week=WEEK, reports_dir=folder, now=now)
    finally:
        ctx.close()
    return (folder / str(WEEK) / "digest.txt").read_text(encoding="utf-8")


def test_the_day_is_stored_as_a_day(day_tender):
    ctx = pipeline.open_context(day_tender)
    try:
        [item] = ctx.store.items(ItemQuery(sources=("boamp",)))
    finally:
        ctx.close()
    # the end of that day where the buyer is (BOAMP: Paris, CET): 23:59:59 local, 22:59:59 UTC
    assert item.deadline_date_only and item.deadline_at == datetime(2026, 12, 4, 22, 59, 59, tzinfo=UTC)
    assert item.deadline_zone == "Europe/Paris" and item.deadline_kind == "tender"
    assert item.local_deadline(PARIS) == DAY


def test_closing_soon_until_the_end_of_the_day_in_the_configured_zone(day_tender):
    """At 23:59 Paris on the day the tender is still listed (shown as the day, without 00:00); half a minute
    after midnight Paris it is not, though it is still that day in UTC."""
    last_minute = _digest_text(day_tender, LAST_MINUTE.astimezone(UTC))
    soon = last_minute.split("SE TERMINENT BIENTÔT (1)\n", 1)[1].split("\n\n", 1)[0]
    assert soon.startswith(f"* ven. 4 déc. 2026 · aujourd'hui\n  {TITLE}\n")
    assert "00:00" not in soon and "23:59" not in soon
    assert "Station de pompage de Lavaur" not in soon  # closed on the 3rd at 12:00
    assert TITLE not in _digest_text(day_tender, NEXT_DAY.astimezone(UTC)).split("SE TERMINENT BIENTÔT")[-1]
    day_before = _digest_text(day_tender, datetime(2026, 12, 3, 9, tzinfo=PARIS))  # both open, soonest first
    soon = day_before.split("SE TERMINENT BIENTÔT (2)\n", 1)[1].split("\n\n", 1)[0].splitlines()
    deadlines = [line for line in soon if line.startswith("* ")]
    assert deadlines == ["* jeu. 3 déc. 2026, 12:00 · aujourd'hui", "* ven. 4 déc. 2026 · demain"]
    assert soon[soon.index(deadlines[1]) + 1] == f"  {TITLE}"


def test_the_store_counts_open_tenders_by_the_day_in_the_configured_zone(day_tender):
    """`deadline_from` given in the deployment's zone: open at 23:59 Paris, closed half a minute after midnight."""
    ctx = pipeline.open_context(day_tender)
    try:
        def open_at(now: datetime) -> list[str]:
            query = ItemQuery(kinds=("tender",), deadline_from=now.astimezone(PARIS))
            return [i.source for i in ctx.store.items(query)]

        assert open_at(LAST_MINUTE) == ["boamp"]
        assert open_at(NEXT_DAY) == []
        before = ItemQuery(kinds=("tender",), deadline_until=datetime(2026, 12, 5, tzinfo=PARIS))
        assert sorted(i.source for i in ctx.store.items(before)) == ["boamp", "ted"]
        assert [i.source for i in ctx.store.items(ItemQuery(deadline_until=LAST_MINUTE))] == ["ted"]
    finally:
        ctx.close()


def test_the_site_shows_the_day_and_closes_it_at_its_end(day_tender):
    ctx = pipeline.open_context(day_tender)
    try:
        [item] = ctx.store.items(ItemQuery(sources=("boamp",)))
    finally:
        ctx.close()
    labels: dict[str, dict[str, str]] = {"kind": {}, "topic": {}, "member": {}}
    reading = Reading("fr", labels, Formats("fr", PARIS))
    shown = card(item, reading, LAST_MINUTE)
    assert (shown["deadline"], shown["closed"]) == ("ven. 4 déc. 2026", False)  # the day, no time
    assert card(item, reading, NEXT_DAY)["closed"] is True


def test_report_csv_xlsx_and_ics_show_the_day(day_tender, veille, tmp_path):
    """CSV, XLSX and Atom give the day without a time; the calendar has an all-day event on that day."""
    out = tmp_path / "tenders.csv"
    assert veille("--config", day_tender, "report", "--kind", "tender", "--format", "csv", "--lang", "en",
                  "-o", out).code == 0
    rows = {r["source"]: r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline=""))}
    assert rows["boamp"]["deadline_at"] == "2026-12-04" and rows["ted"]["deadline_at"] == "2026-12-03 12:00"

    ics = tmp_path / "deadlines.ics"
    assert veille("--config", day_tender, "report", "--kind", "tender", "--format", "ics", "-o", ics).code == 0
    raw = ics.read_bytes().decode("utf-8")
    assert "DTSTART;VALUE=DATE:20261204\r\n" in raw and "DTEND;VALUE=DATE:20261205\r\n" in raw
    events = {str(e["summary"]): e for e in icalendar.Calendar.from_ical(raw).walk("VEVENT")}
    day_event = events[f"Date limite : {TITLE}"]
    assert day_event.decoded("dtstart") == DAY and day_event.decoded("dtend") == DAY + timedelta(days=1)
    timed = events["Date limite : France – Station de pompage de Lavaur"]
    assert timed.decoded("dtend") == datetime(2026, 12, 3, 11, tzinfo=UTC)

    ctx = pipeline.open_context(day_tender)
    try:
        items = ctx.store.items(ItemQuery(kinds=("tender",)))
    finally:
        ctx.close()
    body, _ = export(items, "xlsx", lang="fr", zone=PARIS)
    sheet = openpyxl.load_workbook(io.BytesIO(body))["items"]
    header = [c.value for c in sheet[1]]
    column = header.index("date limite (Europe/Paris)")
    cells = {row[header.index("source")].value: row[column] for row in sheet.iter_rows(min_row=2)}
    assert cells["boamp"].value.date() == DAY and cells["boamp"].number_format == "yyyy-mm-dd"
    assert cells["ted"].value == datetime(2026, 12, 3, 12, 0) and "hh:mm" in cells["ted"].number_format
    feed, _ = export(items, "atom", lang="fr", zone=PARIS, now=LAST_MINUTE)
    text = feed.decode()  # in French: the day alone, the time in Paris
    assert "Date limite : ven. 4 déc. 2026\n" in text and "Date limite : jeu. 3 déc. 2026, 12:00" in text
    assert "Sujets : membranes" in text
