"""Spreadsheets open right: every CSV starts with a BOM and splits on its readers' separator, headers are in
their language, times are on the deployment's clock (the zone named in the XLSX headers)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from starlette.testclient import TestClient

from tests.conftest import MEMBERS, feed_source, write_config
from veille import pipeline
from veille.digest import files
from veille.export import formats
from veille.export.formats import to_csv
from veille.export.xlsx import to_xlsx
from veille.models import Item, TopicTag
from veille.sheets import HEADERS
from veille.web.app import create_app

PARIS = ZoneInfo("Europe/Paris")
MONTREAL = ZoneInfo("America/Montreal")
BOM = "\ufeff"
# the English headers as they were before the French ones: tools read them
ENGLISH = "id,kind,published_at,title,url,source,country,region,relevance,topics,members,why,deadline_at," \
          "deadline_kind,buyer,notice_id,cpv,value_amount,value_currency,value_kind,value_min,value_max,summary"
FRENCH = "identifiant;type;date (Europe/Paris);titre;lien;source;pays;région;pertinence;sujets;membres;raisons;" \
         "date limite (Europe/Paris);échéance pour;acheteur;numéro d'avis;codes CPV;montant;devise;nature du montant;" \
         "montant minimum;montant maximum;résumé"
BIOFILM = "Un capteur de biofilm pour les canalisations d'eau potable"  # Sun 15 Nov 2026 23:30 +0100


def _tender(**fields: object) -> Item:
    base: dict = {"id": "t1", "source": "boamp", "kind": "tender", "title": "Station d'épuration de Muret",
                  "published_at": datetime(2026, 11, 10, 7, tzinfo=UTC), "country": "FR",
                  "deadline_at": datetime(2026, 7, 1, 10, tzinfo=UTC), "cpv": ["45252127"],
                  "topics": {"wastewater": TopicTag(1.5, ["CPV 45252127"])}}
    return Item(**{**base, **fields})


def _rows(text: str, lang: str) -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text.removeprefix(BOM), newline=""), delimiter=";" if lang == "fr" else ","))


def test_csv_starts_with_a_bom_and_splits_on_the_language_separator():
    """French: `;` and French headers naming the zone of the times; English: `,` and the headers of before.
    Lines end in CRLF in both."""
    french = to_csv([_tender()], lang="fr", zone=PARIS)
    english = to_csv([_tender()], lang="en", zone=PARIS)
    assert french.startswith(BOM + FRENCH + "\r\n") and english.startswith(BOM + ENGLISH + "\r\n")
    for text in (french, english):
        assert text.count("\r\n") == 2 and "\n" not in text.replace("\r\n", "")
    assert _rows(french, "fr")[1][3] == "Station d'épuration de Muret"
    assert _rows(english, "en")[1][ENGLISH.split(",").index("cpv")] == "45252127"


def test_csv_times_are_local_times_of_the_configured_zone():
    """07:00 UTC in November is 08:00 in Paris and 02:00 in Montreal; 10:00 UTC in July is 12:00 in Paris."""
    paris = dict(zip(ENGLISH.split(","), _rows(to_csv([_tender()], lang="en", zone=PARIS), "en")[1], strict=True))
    assert (paris["published_at"], paris["deadline_at"]) == ("2026-11-10 08:00", "2026-07-01 12:00")
    montreal = _rows(to_csv([_tender()], lang="fr", zone=MONTREAL), "fr")
    assert montreal[0][2] == "date (America/Montreal)" and montreal[1][2] == "2026-11-10 02:00"


def test_french_numbers_have_a_decimal_comma():
    """A `;` file is read with the French decimal mark: 1,5 is a number there, 1.5 would be text or a date."""
    relevance = ENGLISH.split(",").index("relevance")
    assert _rows(to_csv([_tender()], lang="fr", zone=PARIS), "fr")[1][relevance] == "1,5"
    assert _rows(to_csv([_tender()], lang="en", zone=PARIS), "en")[1][relevance] == "1.5"


def test_every_column_has_its_french_and_english_header():
    """One table holds both languages of every column of every CSV; the English one is the column id."""
    for column in {*formats.CSV_COLUMNS, *files.CSV_COLUMNS}:
        assert set(HEADERS[column]) == {"fr", "en"}, column
        assert HEADERS[column]["en"] == column and HEADERS[column]["fr"]
    assert len({h["fr"] for h in HEADERS.values()}) == len(HEADERS)  # no two French columns alike


def test_xlsx_headers_name_the_zone_and_times_are_local():
    """Read back with openpyxl: headers in the reader's language with the zone, times as naive local values
    shown to the minute, a deadline given as a day as that day (no 00:00)."""
    day = _tender(id="t2", deadline_at=datetime(2026, 12, 4, tzinfo=UTC), deadline_date_only=True)
    for lang, published, deadline in (("fr", "date (Europe/Paris)", "date limite (Europe/Paris)"),
                                      ("en", "published_at (Europe/Paris)", "deadline_at (Europe/Paris)")):
        sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx([_tender(), day], lang=lang, zone=PARIS)))["items"]
        header = [c.value for c in sheet[1]]
        assert header[2] == published and header[12] == deadline
        assert header[3] == ("titre" if lang == "fr" else "title")
        timed, dated = sheet[2], sheet[3]
        assert timed[2].value == datetime(2026, 11, 10, 8, 0) and timed[2].number_format == "yyyy-mm-dd hh:mm"
        assert timed[12].value == datetime(2026, 7, 1, 12, 0) and timed[12].number_format == "yyyy-mm-dd hh:mm"
        assert dated[12].value.date() == date(2026, 12, 4) and dated[12].number_format == "yyyy-mm-dd"
        assert timed[8].value == 1.5  # a number, whatever the language


@pytest.fixture
def collected(tmp_path: Path, http) -> Path:
    """A configuration with a French working group and one English-reading member, after a real collect (on
    20 Nov 2026, whatever the wall clock says: the items are not from the future)."""
    members = [{**MEMBERS[0], "lang": "en"}, MEMBERS[1]]
    directory = write_config(tmp_path / "cfg", [feed_source("eau", http.url("eau.rss"), country="FR")], members)
    ctx = pipeline.open_context(directory)
    try:
        assert pipeline.collect_sources(ctx, now=datetime(2026, 11, 20, tzinfo=UTC)).new == 4
    finally:
        ctx.close()
    return directory


def _csv_file(path: Path) -> tuple[str, list[dict[str, str]]]:
    """(the language a CSV file is in, its rows), checking its BOM and CRLF line ends."""
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\n") == raw.count(b"\r\n") > 1, path
    text = raw.decode("utf-8-sig")
    lang = "fr" if text.startswith("identifiant;") else "en"
    return lang, list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";" if lang == "fr" else ","))


def test_report_csv_is_in_the_language_asked_else_the_member_s_else_the_digest_s(collected, veille, tmp_path):
    """`veille report --format csv`: `--lang` wins; without it, the `--member`'s lang, else digest.lang (fr)."""
    def report(*args: str) -> tuple[str, list[dict[str, str]]]:
        out = tmp_path / "report.csv"
        assert veille("--config", collected, "report", "--format", "csv", "-o", out, *args).code == 0
        return _csv_file(out)

    lang, rows = report()
    assert lang == "fr"
    biofilm = next(r for r in rows if r["titre"] == BIOFILM)
    assert biofilm["date (Europe/Paris)"] == "2026-11-15 23:30"  # 22:30 UTC
    lang, rows = report("--lang", "en")
    assert lang == "en" and next(r for r in rows if r["title"] == BIOFILM)["published_at"] == "2026-11-15 23:30"
    assert report("--member", "polymem")[0] == "en"  # polymem reads English
    assert report("--member", "neosens")[0] == "fr"  # neosens: digest.lang
    assert report("--member", "polymem", "--lang", "fr")[0] == "fr"
    printed = veille("--config", collected, "report", "--format", "csv", "--lang", "en").out
    assert printed.startswith(BOM + ENGLISH + "\r\n")  # standard output gets the same file


def test_report_lang_must_be_fr_or_en(collected, veille):
    assert veille("--config", collected, "report", "--format", "csv", "--lang", "de").code == 2


def test_digest_items_csv_is_in_the_digest_s_language(collected, veille, monkeypatch):
    """The working group's items.csv in digest.lang (French), polymem's in its own lang (English); both with
    local times."""
    monkeypatch.setenv("VEILLE_TZ", "America/Montreal")
    assert veille("--config", collected, "digest", "--week", "2026-W46").code == 0
    lang, rows = _csv_file(collected / "reports/2026-W46/items.csv")
    assert lang == "fr" and list(rows[0])[:6] == ["identifiant", "type", "source", "titre", "lien",
                                                  "date (America/Montreal)"]
    assert next(r for r in rows if r["titre"] == BIOFILM)["date (America/Montreal)"] == "2026-11-15 17:30"
    lang, rows = _csv_file(collected / "reports/2026-W46/members/polymem/items.csv")
    assert lang == "en" and list(rows[0]) == ["id", "kind", "source", "title", "url", "published_at", "country",
                                              "region", "topics", "members", "deadline_at", "buyer", "cpv"]


def test_an_english_working_group_gets_english_files(collected, veille):
    members = (collected / "members.yaml").read_text(encoding="utf-8")
    (collected / "members.yaml").write_text(members.replace("digest:\n", "digest:\n  lang: en\n", 1),
                                            encoding="utf-8")
    assert veille("--config", collected, "digest", "--week", "2026-W46").code == 0
    assert _csv_file(collected / "reports/2026-W46/items.csv")[0] == "en"
    assert veille("--config", collected, "report", "--format", "csv").out.startswith(BOM + ENGLISH)


@pytest.mark.parametrize("site_lang", ["fr", "en"])
def test_site_exports_follow_the_site_language(collected, site_lang):
    """`/items.csv` and `/items.xlsx` are in VEILLE_SITE_LANG, times in VEILLE_TZ."""
    env = {"VEILLE_SITE_PASSWORD": "pw", "VEILLE_SITE_LANG": site_lang, "VEILLE_TZ": "Europe/Paris",
           "VEILLE_DB": f"sqlite:///{collected / 'veille.db'}"}
    ctx = pipeline.open_context(collected, env)
    try:
        with TestClient(create_app(ctx)) as client:
            client.auth = ("anyone", "pw")
            response = client.get("/items.csv")
            book = client.get("/items.xlsx").content
    finally:
        ctx.close()
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith(BOM + (FRENCH if site_lang == "fr" else ENGLISH) + "\r\n")
    header = [c.value for c in openpyxl.load_workbook(io.BytesIO(book))["items"][1]]
    assert header[2] == ("date" if site_lang == "fr" else "published_at") + " (Europe/Paris)"
