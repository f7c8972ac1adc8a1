"""The report's CSV from the store's rows (a pandas frame) is byte for byte the CSV made from items."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import MEMBERS, WATCH_SOURCES, store_items, watch_items, write_config
from veille import pipeline
from veille.export import formats
from veille.export.frame import CELLS, COLUMNS, report_csv
from veille.models import Item, ItemQuery, MemberMatch, TopicTag

ZONE = ZoneInfo("Europe/Paris")


def _tricky() -> list[Item]:
    at = datetime(2026, 11, 12, 8, 30, tzinfo=UTC)
    return [
        Item(id="formula", source="eau", kind="tender", title="=HYPERLINK(\"x\") membranes", summary="+33 1 23 45",
             url="https://x.example/1", published_at=at, collected_at=at, country="BR", buyer="-Régie; des eaux",
             notice_id="@123", cpv=["45252127", "42912300"], value_amount=1200000.0, value_currency="EUR",
             value_kind="estimated", deadline_at=datetime(2026, 12, 4, 22, 59, 59, tzinfo=UTC),
             deadline_date_only=True, deadline_zone="America/Sao_Paulo", deadline_kind="tender",
             topics={"membranes": TopicTag(2.5, ["'membranes' in title", "CPV 45252127"]),
                     "drinking_water": TopicTag(1.5, ["CPV 42912300", '"eau" potable, \\ é — 水'])},
             members={"polymem": MemberMatch(4.5, ["topic membranes", "keyword 'ultrafiltration'"])}),
        Item(id="range", source="water", kind="tender", title="Sensors, \"quoted\"; line\nbreak", summary="",
             url=None, published_at=None, collected_at=at, country=None, buyer="\tRégie", value_min=1000.5,
             value_max=2.0e7,
             value_currency="CAD", deadline_at=datetime(2026, 12, 1, 11, 0, tzinfo=UTC), deadline_kind="participation",
             topics={"sensors": TopicTag(1.0, ["'sensor' in title"])},
             members={"neosens": MemberMatch(3.0, ["topic sensors"])}),
    ]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ctx(request, tmp_path_factory):
    """The same items on SQLite and on PostgreSQL (their drivers give times and JSON differently)."""
    from tests.store.test_database import _fresh_postgres

    directory = tmp_path_factory.mktemp("frame")
    write_config(directory, WATCH_SOURCES, MEMBERS)
    url = f"sqlite:///{directory / 'veille.db'}" if request.param == "sqlite" else _fresh_postgres()
    context = pipeline.open_context(directory, {"VEILLE_DB": url, "VEILLE_TZ": "Europe/Paris"})
    items = watch_items() + _tricky()
    context.store.upsert_items(items)
    store_items(context, items)
    yield context
    context.close()


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize(("member", "by_relevance", "limit"), [(None, True, None), ("polymem", True, None),
                                                               (None, False, None), (None, True, 3)])
def test_the_frame_writes_the_same_csv_as_the_items(ctx, lang, member, by_relevance, limit):
    query = ItemQuery(member=member, one_per_cluster=True)
    items = ctx.store.items(query)
    if by_relevance:
        items.sort(key=lambda i: -i.relevance(member))
    items = items[:limit] if limit else items
    expected = formats.to_csv(items, lang=lang, zone=ZONE)
    count, written = report_csv(*ctx.store.report_rows(replace(query, limit=None if by_relevance else limit),
                                                       COLUMNS, CELLS),
                                member=member, by_relevance=by_relevance, limit=limit, lang=lang, zone=ZONE)
    assert count == len(items) > 0
    assert written == expected


def test_an_empty_report_has_its_headers(ctx):
    count, written = report_csv(*ctx.store.report_rows(ItemQuery(topics=("algae",)), COLUMNS, CELLS), member=None,
                                by_relevance=True, limit=None, lang="fr", zone=ZONE)
    assert count == 0 and written == formats.to_csv([], lang="fr", zone=ZONE)
