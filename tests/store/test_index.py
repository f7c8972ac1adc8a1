"""The in-memory facet index answers every view exactly as the store's SQL does, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tests.store.test_database import _fresh_postgres
from veille.models import KINDS, Item, ItemQuery, MemberMatch, TopicTag
from veille.store import Store
from veille.store import schema as T
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


def _clustered(store: Store, items: list[Item], seed: int = 5) -> None:
    """Store `items` with deadlines on some and a third of them in clusters of 2 to 4 (across sources, kinds
    and regions, as the copies of a story or the notices of a tender are); in some clusters the item whose id
    names the cluster has no cluster id itself (stored before any linking)."""
    rng = random.Random(seed)
    for item in items:
        if rng.random() < 0.4:
            item.deadline_at = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 60))
    store.upsert_items(items)
    store.save_tags(items)
    shuffled = rng.sample(items, len(items) // 3)
    with store.engine.begin() as conn:
        while shuffled:
            group = shuffled[:rng.randint(2, 4)]
            shuffled = shuffled[len(group):]
            root = min(i.id for i in group)
            linked = [i.id for i in group if i.id != root or rng.random() < 0.7]
            conn.execute(T.items.update().where(T.items.c.id.in_(linked)).values(cluster_id=root))


def test_one_per_cluster_tagged_and_by_deadline_equal_the_sql(store):
    """Copies merged (the newest of each cluster in view, topics and members judged on it), items without a topic
    or a counted member match left out, the soonest deadline first: the index answers as the SQL does."""
    items = _archive(400, seed=11)
    _clustered(store, items)
    index = FacetIndex.load(store)
    assert index is not None and not index.alone.all()
    rng = random.Random(13)
    for query, text in _queries(rng):
        extra = {"one_per_cluster": rng.random() < 0.7, "tagged": rng.random() < 0.5,
                 "tagged_by": rng.choice([None, ("polymem",), ()]), "order": rng.choice(["newest", "deadline"])}
        if rng.random() < 0.3:
            extra["deadline_from"] = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 60))
        query = ItemQuery(**{**query.__dict__, **extra})
        sql_query = ItemQuery(**{**query.__dict__, "text": text or None})
        page = index.page(query, index.search(store, text) if text else None)
        assert page.ids == [i.id for i in store.items(sql_query)], (query, text)
        assert page.total == store.count(sql_query), (query, text)
        assert page.facets == store.facets(sql_query), (query, text)


def test_more_than_64_topics_and_members_still_make_an_index(store):
    """Bit sets take as many 64-bit words as there are names: 70 topics and 150 members (a large cluster gives each
    member a profile) are indexed, and the index answers as the SQL does."""
    topics, members = [f"topic{n:02d}" for n in range(70)], [f"member{n:03d}" for n in range(150)]
    items = _archive(300, seed=17)
    rng = random.Random(19)
    for item in items:
        item.topics = {t: TopicTag(1.0, ["x"]) for t in rng.sample(topics, rng.choice([0, 1, 3]))}
        item.members = {m: MemberMatch(1.0, ["x"]) for m in rng.sample(members, rng.choice([0, 1, 2]))}
    _clustered(store, items)
    index = FacetIndex.load(store)
    assert index is not None and len(index.topics) > 64 and len(index.members) > 64
    assert index.member_bits.shape[1] == -(-len(index.members) // 64) >= 2 and index.topic_bits.shape[1] == 2
    for _ in range(60):
        query = ItemQuery(topics=tuple(rng.sample(topics[60:], rng.choice([0, 1]))),
                          member=rng.choice([None, *members[:2], *members[120:]]), one_per_cluster=rng.random() < .5,
                          tagged=rng.random() < .5, tagged_by=rng.choice([None, tuple(members[100:140])]))
        page = index.page(query)
        assert page.ids == [i.id for i in store.items(query)], query
        assert page.total == store.count(query) and page.facets == store.facets(query), query


def test_one_per_cluster_keeps_the_newest_copy_and_counts_clusters(store):
    """Two copies of a story and a lone item: two rows, the newer copy standing for its story; a filter on
    one source's copy shows that copy; a topic only the older copy has is judged on the newer one."""
    when = datetime(2026, 11, 10, tzinfo=UTC)
    older = Item(id="a", source="eau", kind="news", title="Dessalement", published_at=when, collected_at=when,
                 topics={"desalination": TopicTag(1.0, ["x"])})
    newer = Item(id="b", source="water", kind="news", title="Desalination", published_at=when + timedelta(hours=2),
                 collected_at=when)
    alone = Item(id="c", source="eau", kind="news", title="Seul", published_at=when + timedelta(hours=1),
                 collected_at=when)
    store.upsert_items([older, newer, alone])
    store.save_tags([older, newer, alone])
    with store.engine.begin() as conn:
        conn.execute(T.items.update().where(T.items.c.id.in_(["a", "b"])).values(cluster_id="a"))
    index = FacetIndex.load(store)
    merged = ItemQuery(one_per_cluster=True)
    for answer in (index.page(merged).ids, [i.id for i in store.items(merged)]):
        assert answer == ["b", "c"]
    assert store.count(merged) == 2 and store.count(ItemQuery()) == 3
    assert store.facets(merged)["source"] == index.page(merged).facets["source"] == {"eau": 2, "water": 1}
    assert [i.id for i in store.items(ItemQuery(one_per_cluster=True, sources=("eau",)))] == ["c", "a"]
    assert store.count(ItemQuery(one_per_cluster=True, topics=("desalination",))) == 0  # judged on "b"
    assert store.count(ItemQuery(topics=("desalination",))) == 1


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
