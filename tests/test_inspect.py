"""`veille inspect TYPE FILE`: parse a saved payload and print one JSON object per item."""

from __future__ import annotations

import json

from tests.conftest import SITE

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
