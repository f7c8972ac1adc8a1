"""Tenders across sources: one tender with its history, CPV topics and profiles, deadlines (digest and ICS)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import icalendar
import pytest

from tests.conftest import write_config
from veille import pipeline
from veille.digest.weeks import Week
from veille.models import ItemQuery

BUYER = "Communauté d'agglomération du Muretain"


def _ted(number: str, kind: str, published: str, deadline: str | None, related: list[str] | None = None) -> dict:
    notice = {"publication-number": number, "notice-type": kind, "publication-date": published,
              "notice-title": {"fra": "France – Travaux de construction de stations d'épuration – "
                                      "Extension de la station d'épuration de Muret"},
              "buyer-name": {"fra": [BUYER]}, "buyer-country": ["FRA"], "classification-cpv": ["45252127"],
              "official-language": ["FRA"]}
    if deadline:
        notice["deadline-receipt-tender-date-lot"] = [deadline]
        notice["deadline-receipt-tender-time-lot"] = ["12:00:00+01:00"]
    if related:
        notice["RN"] = related
    return notice


@pytest.fixture
def tender_sources(tmp_path, http):
    http.routes["/v3/notices/search"] = lambda r: (200, json.dumps({"notices": [
        _ted("700001-2026", "cn-standard", "2026-11-03+01:00", "2026-11-27+01:00"),
        _ted("750001-2026", "corr", "2026-11-12+01:00", "2026-12-04+01:00", ["700001-2026"]),
    ], "iterationNextToken": None}).encode(), "application/json")
    donnees = {"IDENTITE": {"DENOMINATION": BUYER}, "OBJET": {"CPV": {"PRINCIPAL": "45252127"}}}
    http.routes["/boamp/records"] = lambda r: (200, json.dumps({"total_count": 1, "results": [{
        "idweb": "26-90001", "objet": "Extension de la station d'épuration de Muret", "nomacheteur": BUYER,
        "dateparution": "2026-11-04", "datelimitereponse": "2026-11-27T11:00:00+00:00", "nature": "APPEL_OFFRE",
        "donnees": json.dumps(donnees), "gestion": "{}"}]}).encode(), "application/json")
    sources = [
        {"name": "ted", "kind": "tender", "type": "ted", "url": http.url("/v3/notices/search"),
         "allow_private_network": True, "options": {"cpv": ["452521*"], "page_delay": 0}},
        {"name": "boamp", "kind": "tender", "type": "boamp", "url": http.url("/boamp/records"),
         "allow_private_network": True, "options": {"departments": ["31"], "page_delay": 0}},
    ]
    members = [{"id": "loira", "name": "Loïra", "emails": ["veille@loira.example.org"], "cpv": ["4525"]},
               {"id": "neosens", "name": "Neosens", "topics": ["sensors"]}]
    return write_config(tmp_path / "cfg", sources, members)


def test_the_same_tender_is_linked_across_notices_and_sources(tender_sources, veille):
    """A TED call, its TED corrigendum and the BOAMP notice become one tender with a three-step history."""
    assert veille("--config", tender_sources, "collect").code == 0
    ctx = pipeline.open_context(tender_sources)
    try:
        items = ctx.store.items(ItemQuery(kinds=("tender",)))
        assert len(items) == 3 and len({i.cluster_id for i in items}) == 1
        call = next(i for i in items if i.notice_id == "700001-2026")
        assert call.topics["wastewater"].evidence[0] == "CPV 45252127"  # CPV codes map to topics
        assert call.members["loira"].reasons == ["CPV 45252127 matches 4525"]  # profiles match CPV prefixes
        assert "neosens" not in call.members
        report = pipeline.build_digest(ctx, week=Week(2026, 46), reports_dir=tender_sources / "reports",
                                       now=datetime(2026, 11, 16, 6, 30, tzinfo=UTC))
    finally:
        ctx.close()
    text = (tender_sources / "reports/2026-W46/digest.txt").read_text(encoding="utf-8")
    assert report.items == 1  # the W46 corrigendum stands for the tender
    assert text.count("Extension de la station d'épuration de Muret") == 1  # not closing soon: moved to 4 Dec
    assert ("historique : avis de marché mar. 3 nov. 2026 (ted) → avis de marché mer. 4 nov. 2026 (boamp) → "
            "modification jeu. 12 nov. 2026 (ted)") in text
    html = (tender_sources / "reports/2026-W46/digest.html").read_text(encoding="utf-8")
    assert 'class="history"' in html and "https://ted.europa.eu/fr/notice/-/detail/700001-2026" in html


def test_closing_soon_lists_deadlines_within_14_days(tender_sources, veille):
    veille("--config", tender_sources, "collect")
    ctx = pipeline.open_context(tender_sources)
    try:
        early = pipeline.build_digest(ctx, week=Week(2026, 46), reports_dir=tender_sources / "r1",
                                      now=datetime(2026, 11, 25, 6, 30, tzinfo=UTC))
        late = pipeline.build_digest(ctx, week=Week(2026, 46), reports_dir=tender_sources / "r2",
                                     now=datetime(2026, 12, 5, 6, 30, tzinfo=UTC))
    finally:
        ctx.close()
    assert early.files and late.files
    soon = (tender_sources / "r1/2026-W46/digest.txt").read_text(encoding="utf-8")
    # the corrigendum's new deadline, with the days left
    assert "SE TERMINENT BIENTÔT (1)\n* ven. 4 déc. 2026, 12:00 · dans 9 jours\n  France – Travaux" in soon
    assert "27 nov. 2026" not in soon  # the BOAMP notice's deadline was moved by the corrigendum
    assert "SE TERMINENT BIENTÔT" not in (tender_sources / "r2/2026-W46/digest.txt").read_text(encoding="utf-8")


def test_ics_of_tender_deadlines(tender_sources, veille, tmp_path):
    """`report --kind tender --format ics` gives one event per tender, valid for calendar clients."""
    veille("--config", tender_sources, "collect")
    out = tmp_path / "deadlines.ics"
    result = veille("--config", tender_sources, "report", "--kind", "tender", "--format", "ics", "-o", out)
    assert result.code == 0, result.err
    raw = out.read_bytes()
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n")  # CRLF lines as RFC 5545 requires
    calendar = icalendar.Calendar.from_ical(raw)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1  # three notices, one tender
    event = events[0]
    assert event.decoded("dtend") == datetime(2026, 12, 4, 11, tzinfo=UTC)  # the latest notice's deadline
    assert str(event["summary"]).startswith("Date limite : France – Travaux")
    description = str(event["description"])
    assert f"Acheteur : {BUYER}" in description and "CPV : 45252127" in description
    assert "https://ted.europa.eu/fr/notice/-/detail/750001-2026" in description
    assert list(event.walk("VALARM"))


def test_report_cluster_id_in_json(tender_sources, veille):
    veille("--config", tender_sources, "collect")
    result = veille("--config", tender_sources, "report", "--format", "json")
    items = json.loads(result.out)
    assert len({i["cluster_id"] for i in items}) == 1


