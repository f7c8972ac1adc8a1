"""The in-memory facet index answers every view exactly as the store's SQL does, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tests.store.test_database import _fresh_postgres
from veille.models import KINDS, Item, ItemQuery, MemberMatch, TopicTag
from veille.store import Store
from veille.store.index import FacetIndex

TOPICS = ["membranes", "sensors", "wastewater", "desalination"]
MEMBERS = ["polymem", "neosens", "lisbp"]
WORDS = ["épuration", "station", "membrane", "membranes", "capteur", "réseau", "eau", "usine", "PFAS", "forage"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else _fresh_postgres()
    opened = Store.open(url)
    yield opened
    opened.close()


def _archive(count: int, seed: int = 3) -> list[Item]:
    rng = random.Random(seed)
    start = datetime(2026, 9, 1, tzinfo=UTC)
    items = []
    for n in range(count):
        item = Item(id=f"i{n:04d}", source=f"source-{n % 7}", kind=rng.choice(KINDS),
                    title=" ".join(rng.choices(WORDS, k=4)), summary=" ".join(rng.choices(WORDS, k=8)),
                    country=rng.choice(["FR", "BR", "CA", "SA", "DE", None]),
                    published_at=start + timedelta(hours=rng.randint(0, 24 * 80)),
                    collected_at=start + timedelta(days=90))
        for topic in rng.sample(TOPICS, rng.randint(0, 2)):
            item.topics[topic] = TopicTag(1.0, ["x"])
        for member in rng.sample(MEMBERS, rng.randint(0, 2)):
            item.members[member] = MemberMatch(1.0, ["x"])
        items.append(item)
    return items


def _queries(rng: random.Random) -> list[tuple[ItemQuery, str]]:
    out = [(ItemQuery(), ""), (ItemQuery(sources=("nowhere",)), ""), (ItemQuery(member="nobody"), "")]
    for _ in range(40):
        since = datetime(2026, 9, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 70))
        out.append((ItemQuery(
            topics=tuple(rng.sample(TOPICS, rng.choice([0, 0, 1, 2]))),
            kinds=tuple(rng.sample(KINDS, rng.choice([0, 1, 2]))),
            regions=tuple(rng.sample(["FR", "BR", "EU", "GULF"], rng.choice([0, 1]))),
            sources=tuple(rng.sample([f"source-{n}" for n in range(7)], rng.choice([0, 0, 1]))),
            member=rng.choice([None, None, *MEMBERS]),
            since=since if rng.random() < 0.4 else None,
            until=since + timedelta(days=rng.randint(1, 30)) if rng.random() < 0.3 else None,
            limit=rng.choice([None, 5, 20]), offset=rng.choice([0, 0, 3])),
            rng.choice(["", "", "", "epuration", "Épuration station", "capteurs", "pfas eau"])))
    return out


def test_index_pages_counts_and_facets_equal_the_sql(store):
    items = _archive(400)
    store.upsert_items(items)
    store.save_tags(items)
    index = FacetIndex.load(store)
    assert index is not None and len(index.ids) == 400
    for query, text in _queries(random.Random(9)):
        sql_query = ItemQuery(**{**query.__dict__, "text": text or None})
        page = index.page(query, index.search(store, text) if text else None)
        assert page.ids == [i.id for i in store.items(sql_query)], (query, text)
        assert page.total == store.count(sql_query), (query, text)
        assert page.facets == store.facets(sql_query), (query, text)


def test_every_write_changes_the_generation(store):
    first = store.generation()
    items = _archive(3)
    store.upsert_items(items)
    second = store.generation()
    assert second != first
    store.upsert_items(items)  # nothing changed: nothing to refresh
    assert store.generation() == second
    items[0].topics = {"algae": TopicTag(2.0, ["y"])}
    store.save_tags(items)
    assert store.generation() != second
    index = FacetIndex.load(store)
    assert index.generation == store.generation()
    assert index.page(ItemQuery(topics=("algae",))).ids == ["i0000"]


def test_search_numbers_survive_vacuum_and_edits(tmp_path):
    """SQLite: the full-text rows are found again by each item's search number after VACUUM (which may
    renumber plain rowids) and after an edited title."""
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    items = _archive(60)
    store.upsert_items(items)
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("DELETE FROM items WHERE id = 'i0003'")  # a hole before VACUUM
        conn.exec_driver_sql("VACUUM")
    items[5].title = "Usine de dessalement de Gruissan"
    store.upsert_items(items[5:6])
    store.upsert_items([Item(id="late", source="s", kind="news", title="Dessalement à Agde",
                             collected_at=items[0].collected_at)])
    index = FacetIndex.load(store)
    for text in ("dessalement", "epuration", "station capteur", "gruissan"):
        expected = sorted(i.id for i in store.items(ItemQuery(text=text)))
        assert sorted(index.ids[int(n)] for n in index.search(store, text)) == expected, text
    assert sorted(index.ids[int(n)] for n in index.search(store, "dessalement"))[:2] == ["i0005", "late"]
    store.close()
