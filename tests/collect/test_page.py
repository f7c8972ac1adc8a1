"""The `page` connector reads an HTML listing with CSS selectors."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import SITE
from veille.collect import parse_payload
from veille.models import Source


def _source(**options: str) -> Source:
    base = {"item": "div.row", "title": "h3", "link": "h3 a", "date": "span.date", "deadline": "span.fin",
            "buyer": "em.buyer"}
    return Source(name="board", kind="tender", type="page", url="https://board.example.org/list", country="FR",
                  options={**base, **options})


def test_listing_items():
    """Titles, absolute canonical links, Paris-local dates in UTC, deadlines and buyers are read."""
    items = parse_payload(_source(), (SITE / "tenders.html").read_bytes(), "https://board.example.org/list")
    assert [i.title for i in items] == ["Station d'épuration de Lavaur : extension", "Fourniture de capteurs de chlore",
                                        "Avis sans lien valide"]
    first, second, third = items
    assert first.url == "https://board.example.org/avis/101"
    assert first.published_at == datetime(2026, 11, 8, 23, tzinfo=UTC)
    assert first.deadline_at == datetime(2026, 11, 30, 11, tzinfo=UTC)
    assert first.buyer == "Ville de Lavaur" and first.country == "FR" and first.lang == "fr"
    assert second.url == "https://other.example.org/avis/102"  # tracking parameter removed
    assert second.published_at == datetime(2026, 11, 10, 8, tzinfo=UTC)  # the datetime attribute wins
    assert second.deadline_at == datetime(2026, 12, 1, 11, tzinfo=UTC)
    assert third.url is None  # javascript: links are dropped
    assert len({i.id for i in items}) == 3
