"""`veille inspect TYPE FILE`: parse a saved payload and print one JSON object per item."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SITE, need_corpus

KEYS = {"id", "source", "kind", "title", "summary", "url", "lang", "country", "published_at", "collected_at",
        "updated_at", "notice_id", "notice_type", "buyer", "deadline_at", "cpv", "value_amount", "value_currency",
        "procedure", "topics", "members", "cluster_id"}


def test_inspect_feed(veille):
    result = veille("inspect", "feed", SITE / "water.atom")
    assert result.code == 0, result.err
    items = [json.loads(line) for line in result.out.splitlines()]
    assert len(items) == 2 and set(items[0]) >= KEYS
    assert items[0]["published_at"] == "2026-11-12T10:00:00+00:00"
    assert items[0]["cpv"] == [] and items[0]["deadline_at"] is None


def test_inspect_page_with_options(veille):
    result = veille("inspect", "page", SITE / "tenders.html", "--kind", "tender", "--country", "FR",
                    "--options", "{item: div.row, title: h3, date: span.date, deadline: span.fin}")
    items = [json.loads(line) for line in result.out.splitlines()]
    assert result.code == 0 and len(items) == 3 and items[0]["kind"] == "tender"
    assert items[0]["deadline_at"] == "2026-11-30T11:00:00+00:00"


def test_inspect_errors_exit_2(veille, tmp_path):
    assert "not a readable RSS/Atom feed" in veille("inspect", "feed", SITE / "broken.rss").err
    assert veille("inspect", "feed", SITE / "broken.rss").code == 2
    assert veille("inspect", "feed", tmp_path / "missing.xml").code == 2
    assert veille("inspect", "nosuchtype", SITE / "eau.rss").code == 2
    result = veille("inspect", "page", SITE / "tenders.html", "--options", "{item: 'div..x', title: h3}")
    assert result.code == 2 and "not a valid CSS selector" in result.err
    assert veille("inspect", "page", SITE / "tenders.html").code == 2  # required selectors missing


CORPUS_FILES = [
    ("ted", "ted-api-v3/ted-v3-search-response-cn-standard-trimmed-1-of-822.json"),
    ("eforms", "ted-eforms/eforms-published-subtype17-sdkv1.6-550470-2023.xml"),
    ("ted-xml", "ted-xml-r209/ted-r209-F02-UK-water-efficiency-20-382921-001-EXP.xml"),
    ("boamp", "boamp/boamp-ods-v2.1-records-select-all-trimmed-1-of-5.json"),
    ("boamp", "boamp/boamp-dila-xml-Boamp_v230-appel-offre-16-186394.xml"),
    ("worldbank", "worldbank-procnotices/wb-procnotices-list-only-page1.json"),
    ("pncp", "pncp/pncp-consulta-v1-contratacoes-proposta-page1.json"),
    ("federal-register", "federal-register/fr-documents-search-term-clean-water-page1.json"),
]


@pytest.mark.parametrize(("type_", "path"), CORPUS_FILES)
def test_inspect_real_payloads(veille, type_, path):
    """`veille inspect TYPE FILE` prints contract JSON for a real payload of each type."""
    corpus = need_corpus()
    result = veille("inspect", type_, corpus / path, "--kind", "tender")
    assert result.code == 0, result.err
    items = [json.loads(line) for line in result.out.splitlines()]
    assert items and all(set(i) >= KEYS for i in items)
    for item in items:
        assert all(len(c) == 8 and c.isdigit() for c in item["cpv"])
        for key in ("published_at", "deadline_at"):
            assert item[key] is None or item[key][-6] in "+-"  # ISO 8601 with an offset


def test_inspect_api_types_errors(veille, tmp_path):
    """A malformed payload exits 2 naming the problem; a record missing fields gives nulls, not a crash."""
    broken = tmp_path / "broken.json"
    broken.write_text('{"notices": [')
    result = veille("inspect", "ted", broken)
    assert result.code == 2 and "not a TED search JSON payload" in result.err
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"results": []}')
    assert "expected a 'notices' list" in veille("inspect", "ted", wrong).err
    sparse = tmp_path / "sparse.json"
    sparse.write_text('{"notices": [{"publication-number": "1-2026"}], "iterationNextToken": null}')
    [item] = [json.loads(line) for line in veille("inspect", "ted", sparse).out.splitlines()]
    assert item["notice_id"] == "1-2026" and item["buyer"] is None and item["deadline_at"] is None
    assert item["cpv"] == [] and item["value_amount"] is None
    bad_xml = tmp_path / "bad.xml"
    bad_xml.write_text("<TED_EXPORT><unclosed></TED_EXPORT>")
    assert veille("inspect", "ted-xml", bad_xml).code == 2
