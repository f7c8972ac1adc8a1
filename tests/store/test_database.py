"""The store on SQLite and on PostgreSQL (set VEILLE_TEST_PG_URL; .ci/run starts a server)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.conftest import MEMBERS, feed_source, write_config
from veille.models import Item, ItemQuery, MemberMatch, TopicTag
from veille.store import Store, schema
from veille.store.schema import metadata

PG_URL = os.environ.get("VEILLE_TEST_PG_URL")


def _fresh_postgres() -> str:
    if not PG_URL:
        pytest.skip("no PostgreSQL server: set VEILLE_TEST_PG_URL (the CI script installs and starts one)")
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS apscheduler_jobs"))
    engine.dispose()
    return PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else _fresh_postgres()


def _item(n: int, **fields) -> Item:
    base = {"id": f"id-{n}", "source": "s", "kind": "news", "title": f"title {n}", "url": f"https://x.org/{n}",
            "published_at": datetime(2026, 11, 9 + n, 10, tzinfo=UTC),
            "collected_at": datetime(2026, 11, 20, tzinfo=UTC), "country": "FR"}
    return Item(**{**base, **fields})


def test_upsert_new_updated_unchanged(db_url):
    store = Store.open(db_url)
    new, updated = store.upsert_items([_item(1), _item(2)])
    assert [i.id for i in new] == ["id-1", "id-2"] and updated == []
    new, updated = store.upsert_items([_item(1), _item(2, title="title 2 (corrected)")])
    assert new == [] and [i.id for i in updated] == ["id-2"]
    stored = {i.id: i for i in store.items()}
    assert stored["id-2"].title == "title 2 (corrected)"
    assert stored["id-2"].collected_at == datetime(2026, 11, 20, tzinfo=UTC)  # first collection time kept
    assert stored["id-2"].updated_at is not None
    assert store.count_items() == 2
    store.close()


def test_tags_and_filters(db_url):
    store = Store.open(db_url)
    items = [_item(1, cpv=["45252127"], deadline_at=datetime(2026, 12, 1, 11, tzinfo=UTC), kind="tender"),
             _item(2, country="BR"), _item(3)]
    items[0].topics = {"wastewater": TopicTag(2.0, ["'STEP' in title"])}
    items[0].members = {"loira": MemberMatch(2.0, ["topic wastewater: 'STEP' in title"])}
    items[1].topics = {"wastewater": TopicTag(1.0, ["x"]), "membranes": TopicTag(1.0, ["y"])}
    store.upsert_items(items)
    store.save_tags(items)
    assert [i.id for i in store.items(ItemQuery(topics=("wastewater",)))] == ["id-2", "id-1"]
    assert [i.id for i in store.items(ItemQuery(topics=("wastewater", "membranes")))] == ["id-2"]
    assert [i.id for i in store.items(ItemQuery(member="loira"))] == ["id-1"]
    assert [i.id for i in store.items(ItemQuery(regions=("BR",)))] == ["id-2"]
    assert [i.id for i in store.items(ItemQuery(kinds=("tender",)))] == ["id-1"]
    window = ItemQuery(since=datetime(2026, 11, 11, tzinfo=UTC), until=datetime(2026, 11, 12, tzinfo=UTC))
    assert [i.id for i in store.items(window)] == ["id-2"]
    deadline = ItemQuery(deadline_from=datetime(2026, 11, 30, tzinfo=UTC))
    [tender] = store.items(deadline)
    assert tender.cpv == ["45252127"] and tender.topics["wastewater"].evidence == ["'STEP' in title"]
    assert tender.members["loira"].reasons == ["topic wastewater: 'STEP' in title"]
    store.save_tags([_item(1)])  # retagging replaces: no tags left for id-1
    assert store.items(ItemQuery(member="loira")) == []
    store.close()


def test_fetch_state_runs_and_deliveries(db_url):
    store = Store.open(db_url)
    store.record_fetch("s", ok=True, status="ok", etag='"abc"', last_modified="Mon, 09 Nov 2026 10:00:00 GMT")
    store.record_fetch("s", ok=False, status="failed", error="HTTP 500")
    store.record_fetch("s", ok=False, status="failed", error="timed out")
    state = store.fetch_states()["s"]
    assert (state.etag, state.failures, state.last_error) == ('"abc"', 2, "timed out")
    store.record_fetch("s", ok=True, status="not-modified")
    state = store.fetch_states()["s"]
    assert (state.etag, state.failures, state.last_error) == ('"abc"', 0, None)
    run = store.start_run("collect")
    store.finish_run(run, "ok", {"line": "1 sources"})
    with store.engine.connect() as conn:
        last = conn.execute(sa.select(schema.runs).order_by(schema.runs.c.id.desc())).mappings().first()
    assert last is not None and last["summary"] == {"line": "1 sources"} and last["status"] == "ok"
    store.record_delivery("2026-W46", "a@x.org", "full", "smtp", "<m@x>")
    assert store.delivered("2026-W46", "full") == {"a@x.org": "sent"}
    store.record_delivery("2026-W46", "b@x.org", "full", "smtp", None, "refused", "550 no such user")
    assert store.delivered("2026-W46", "full") == {"a@x.org": "sent", "b@x.org": "refused"}
    assert store.delivered("2026-W47", "full") == {}
    store.close()


def test_migrations_are_recorded_once(db_url):
    Store.open(db_url).close()
    store = Store.open(db_url)
    with store.engine.connect() as conn:
        versions = [r[0] for r in conn.execute(sa.text("SELECT version FROM schema_version"))]
    assert versions == list(range(1, 22))
    store.close()


def test_cli_on_postgresql(tmp_path, http, veille, monkeypatch):
    """The same commands run unchanged on PostgreSQL when VEILLE_DB points at it."""
    monkeypatch.setenv("VEILLE_DB", _fresh_postgres())
    directory = write_config(tmp_path, [feed_source("eau", http.url("eau.rss"), country="FR")], MEMBERS)
    assert veille("--config", directory, "collect").code == 0
    assert "items: 0 new" in veille("--config", directory, "collect").out
    result = veille("--config", directory, "report", "--topic", "membranes", "--format", "csv")
    assert "ultrafiltration" in result.out
    assert veille("--config", directory, "digest", "--week", "2026-W46", "--send").code == 0
    assert not (directory / "veille.db").exists()


def test_unusable_database_url(tmp_path, http, veille, monkeypatch):
    monkeypatch.setenv("VEILLE_DB", "nosuchdialect://x")
    directory = write_config(tmp_path, [feed_source("eau", http.url("eau.rss"))])
    result = veille("--config", directory, "collect")
    assert result.code == 2 and "VEILLE_DB" in result.err


def _columns(conn: sa.Connection) -> dict[str, set[str]]:
    inspector = sa.inspect(conn)
    return {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
            if t in schema.metadata.tables}


def test_migrations_build_the_current_schema(db_url):
    """A new database goes through every migration from the frozen v1 schema and ends with exactly the tables
    and columns of `schema.py` (no migration left out, none that only a test runs)."""
    store = Store.open(db_url)
    with store.engine.connect() as conn:
        assert _columns(conn) == {name: set(table.columns.keys()) for name, table in schema.metadata.tables.items()}
        inspector = sa.inspect(conn)
        for name in ("items", "item_topics", "item_members"):  # the indexes the queries are planned with
            indexes = {i.name for i in schema.metadata.tables[name].indexes}
            found = {i["name"] for i in inspector.get_indexes(name)} - {"ix_items_search"}  # PostgreSQL's full text
            assert found == indexes
    store.close()


def test_migration_from_version_1(tmp_path):
    """A database made by version 1 (its frozen DDL, with data) is brought to the current version, data kept."""
    from veille.store import schema_v1

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        schema_v1.metadata.create_all(conn)
        assert "simhash" not in _columns(conn)["items"] and "item_links" not in _columns(conn)
        conn.execute(sa.text("INSERT INTO schema_version VALUES (1, 'initial', '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO items (id, source, kind, title, summary, collected_at, seen_at, cpv) "
                             "VALUES ('old', 's', 'news', 'kept', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00', "
                             "'[]')"))
        conn.execute(sa.text("INSERT INTO deliveries VALUES ('2026-W01', 'a@example.org', 'full', "
                             "'2026-01-05 07:30:00', 'smtp', '<m1@example.org>')"))
    engine.dispose()
    store = Store.open(url)
    assert [i.title for i in store.items()] == ["kept"]
    assert [i.title for i in store.items(ItemQuery(text="KEPT"))] == ["kept"]  # migration 7 indexed it
    assert store.delivered("2026-W01", "full") == {"a@example.org": "sent"}  # migration 4's default
    with store.engine.connect() as conn:
        versions = [r[0] for r in conn.execute(sa.text("SELECT version FROM schema_version"))]
        assert versions == list(range(1, 22))
        assert _columns(conn) == {name: set(table.columns.keys()) for name, table in schema.metadata.tables.items()}
    store.close()


def test_scheduler_job_store_on_both_databases(db_url, tmp_path, http, monkeypatch):
    """APScheduler keeps its jobs in the same database, SQLite or PostgreSQL, and finds them after a restart."""
    from veille import pipeline
    from veille.schedule import WEEKLY_JOB, build_scheduler, configure

    monkeypatch.setenv("VEILLE_DB", db_url)
    directory = write_config(tmp_path, [feed_source("eau", http.url("eau.rss"), every="1d")], MEMBERS)
    ctx = pipeline.open_context(directory)
    try:
        first = build_scheduler(ctx)
        first.start(paused=True)
        configure(first, ctx, directory)
        planned = first.get_job(WEEKLY_JOB).next_run_time
        first.shutdown(wait=False)
        second = build_scheduler(ctx)
        second.start(paused=True)
        assert {j.id for j in second.get_jobs()} == {"collect:eau", WEEKLY_JOB}
        assert second.get_job(WEEKLY_JOB).next_run_time == planned
        second.shutdown(wait=False)
    finally:
        ctx.close()


def test_full_text_search_ignores_accents_and_case_and_follows_updates(db_url):
    """Search finds every word as a word or its start, with or without accents; an edited title is
    found by its new words only; counts and facets describe the same selection."""
    store = Store.open(db_url)
    now = datetime.now(UTC)
    items = [Item(id="a1", source="eau", kind="news", title="Station d'épuration de Toulouse", collected_at=now,
                  summary="Bioréacteurs à membranes", country="FR"),
             Item(id="b2", source="ted", kind="tender", title="Water plant", summary="membrane skid", country="BR",
                  buyer="Régie des eaux", collected_at=now, topics={"membranes": TopicTag(2.0, ["'membrane'"])}),
             Item(id="c3", source="ted", kind="tender", title="Road works", summary="asphalt", collected_at=now,
                  country="FR")]
    store.upsert_items(items)
    store.save_tags(items)

    def found(text: str, **more) -> list[str]:
        return sorted(i.id for i in store.items(ItemQuery(text=text, **more)))

    assert found("epuration") == found("ÉPURATION") == found("Épuration") == ["a1"]
    assert found("membrane") == ["a1", "b2"]  # "membranes" starts with it
    assert found("regie") == ["b2"]  # the buyer is searched too
    assert found("bioreacteur membrane") == ["a1"]  # every word must be there
    assert found("membrane", kinds=("tender",)) == ["b2"]
    assert found("zzz") == [] and found("'\"*():") == ["a1", "b2", "c3"]  # punctuation is no syntax
    assert store.count(ItemQuery(text="membrane")) == 2
    facets = store.facets(ItemQuery(text="membrane"))
    assert facets["kind"] == {"news": 1, "tender": 1}
    assert facets["region"] == {"FR": 1, "BR": 1}
    assert facets["topic"] == {"membranes": 1}
    assert store.facets(ItemQuery(kinds=("tender",)))["source"] == {"ted": 2}
    items[0].title = "Usine de dessalement"
    store.upsert_items(items)
    assert found("epuration") == [] and found("dessalement") == ["a1"]
    assert store.item("a1").title == "Usine de dessalement" and store.item("nope") is None
    assert [i.id for i in store.items(ItemQuery(limit=1, offset=1))] == [sorted(i.id for i in items)[1]]
    store.close()


def test_the_store_dates_its_writes_with_the_clock_it_is_given(tmp_path):
    """Backoff, runs and collection times follow the injected clock, whatever today is."""
    moment = datetime(2031, 2, 3, 4, 5, tzinfo=UTC)
    store = Store.open(f"sqlite:///{tmp_path / 'clock.db'}", clock=lambda: moment)
    store.record_fetch("s", ok=False, status="failed", error="HTTP 503")
    assert store.fetch_states()["s"].next_attempt_at == moment + timedelta(minutes=15)
    run = store.start_run("collect")
    store.finish_run(run, "ok", {})
    assert store.runs()[0]["started_at"] == moment and store.runs()[0]["finished_at"] == moment
    store.upsert_items([Item(id="x", source="s", kind="news", title="t")])
    assert store.items()[0].collected_at == moment and store.fetch_states()["s"].items_recent == 1
    store.close()


def test_migration_15_moves_stored_days_to_their_end_where_the_buyer_is(db_url):
    """Rows stored before migration 15: a day at 00:00 UTC becomes 23:59:59 in its country's zone, a regulation's
    deadline is for comments; a timed deadline keeps its instant."""
    store = Store.open(db_url)
    store.upsert_items([_item(1, kind="tender", country="FR", deadline_at=datetime(2026, 12, 4, tzinfo=UTC)),
                  _item(2, kind="regulation", country="US", deadline_at=datetime(2027, 1, 9, tzinfo=UTC)),
                  _item(3, kind="tender", country="FR", deadline_at=datetime(2026, 12, 3, 11, tzinfo=UTC))])
    with store.engine.begin() as conn:  # as version 14 left them
        conn.execute(sa.update(schema.items).where(schema.items.c.id.in_(["id-1", "id-2"])).values(
            deadline_date_only=True))
        conn.execute(sa.update(schema.items).values(deadline_zone=None, deadline_kind=None, deadlines=[]))
        conn.execute(sa.delete(schema.schema_version).where(schema.schema_version.c.version >= 15))
    store.close()
    store = Store.open(db_url)
    by_id = {i.id: i for i in store.items()}
    store.close()
    assert (by_id["id-1"].deadline_at, by_id["id-1"].deadline_zone) == (datetime(2026, 12, 4, 22, 59, 59, tzinfo=UTC),
                                                                    "Europe/Paris")
    assert by_id["id-2"].deadline_at == datetime(2027, 1, 10, 4, 59, 59, tzinfo=UTC)  # New York, EST
    assert by_id["id-2"].deadline_kind == "comments" and by_id["id-1"].deadline_kind == "tender"
    assert by_id["id-3"].deadline_at == datetime(2026, 12, 3, 11, tzinfo=UTC)
    assert by_id["id-3"].deadlines[0].kind == "tender"


def test_trend_counts_one_story_per_week_for_the_group_and_each_member(db_url):
    """The digests' trend, read once for all of them: items without a topic or a match are left out, a tender's
    notices count once a week (twice when they fall in two weeks), a member counts its own matches only."""
    from veille.digest.summarize import WeeklyCounts
    from veille.digest.weeks import Week

    store = Store.open(db_url)
    zone = ZoneInfo("Europe/Paris")
    weeks = [Week.parse("2026-W45"), Week.parse("2026-W46"), Week.parse("2026-W47")]
    mem = {"members": {"polymem": MemberMatch(2.0, ["membrane"])}}
    items = [
        # week 45: a tender's call and its corrigendum (one tender), a news item matched by polymem only
        _item(1, kind="tender", published_at=datetime(2026, 11, 3, 9, tzinfo=UTC),
              topics={"membranes": TopicTag(1.0, ["membrane"])}),
        _item(2, kind="tender", published_at=datetime(2026, 11, 5, 9, tzinfo=UTC),
              topics={"membranes": TopicTag(1.0, ["membrane"])}, **mem),
        _item(3, published_at=datetime(2026, 11, 6, 9, tzinfo=UTC), **mem),
        # week 46: the same tender's award, an untagged item (left out), a news item on two topics
        _item(4, kind="tender", published_at=datetime(2026, 11, 10, 9, tzinfo=UTC),
              topics={"membranes": TopicTag(1.0, ["membrane"])}),
        _item(5, published_at=datetime(2026, 11, 11, 9, tzinfo=UTC)),
        _item(6, published_at=datetime(2026, 11, 12, 9, tzinfo=UTC),
              topics={"membranes": TopicTag(1.0, ["membrane"]), "sensors": TopicTag(1.0, ["capteur"])}),
        # Sunday 15 November 23:30 in Paris is still week 46 there (22:30 UTC); after the weeks: left out
        _item(7, published_at=datetime(2026, 11, 15, 22, 30, tzinfo=UTC), topics={"sensors": TopicTag(1.0, ["x"])}),
        _item(8, published_at=datetime(2026, 11, 30, 9, tzinfo=UTC), collected_at=datetime(2026, 12, 1, tzinfo=UTC),
              topics={"sensors": TopicTag(1.0, ["x"])}),
    ]
    store.upsert_items(items)
    store.save_tags(items)
    with store.engine.begin() as conn:  # the tender's notices linked as a collect links them
        conn.execute(schema.items.update().where(schema.items.c.id.in_(["id-1", "id-2", "id-4"]))
                     .values(cluster_id="id-1"))
    counts = WeeklyCounts(store.trend_counts([w.bounds(zone) for w in weeks], ["polymem", "neosens"]), len(weeks))
    kinds, topics = counts.counts(None, ["membranes", "sensors", "algae"])
    assert kinds == {"tender": [1, 1, 0], "news": [1, 2, 0]}
    assert topics == {"membranes": [1, 2, 0], "sensors": [0, 2, 0], "algae": [0, 0, 0]}
    kinds, topics = counts.counts("polymem", ["membranes"])
    assert kinds == {"tender": [1, 0, 0], "news": [1, 0, 0]}
    assert topics == {"membranes": [1, 0, 0]}
    assert counts.counts("neosens", ["sensors"]) == ({}, {"sensors": [0, 0, 0]})
    assert WeeklyCounts(store.trend_counts([]), 0).counts(None, ["sensors"]) == ({}, {"sensors": []})


def test_a_readers_last_verdict_counts_and_the_same_again_changes_nothing(db_url):
    now = [datetime(2026, 11, 20, 9, tzinfo=UTC)]
    store = Store.open(db_url, clock=lambda: now[0])
    store.upsert_items([_item(1), _item(2)])
    assert store.record_verdict("id-1", "polymem", "not_relevant")
    now[0] += timedelta(hours=1)
    assert store.record_verdict("id-1", "polymem", "not_relevant")  # again: its first time is kept
    assert [(v.verdict, v.at) for v in store.verdicts()] == [("not_relevant", datetime(2026, 11, 20, 9, tzinfo=UTC))]
    assert store.record_verdict("id-1", "polymem", "relevant")  # a changed mind replaces it
    assert store.record_verdict("id-2", "group", "relevant")
    assert not store.record_verdict("no-such-item", "polymem", "relevant")
    assert sorted((v.item_id, v.reader, v.verdict) for v in store.verdicts()) == [
        ("id-1", "polymem", "relevant"), ("id-2", "group", "relevant")]
    assert [v.item_id for v in store.verdicts("group")] == ["id-2"]
    assert store.verdicts(since=now[0] + timedelta(minutes=1)) == []
    assert store.verdict("id-1", "polymem") == "relevant" and store.verdict("id-2", "polymem") is None


def test_bulk_rows_as_values_store_what_rows_as_dicts_store(db_url):
    """`bulk.executemany` with `keys` and `values` (no dict per row, JSON serialised once per distinct list)
    writes the same rows as with dicts, on both databases; lists that are not keys (nested) still go through."""
    from veille.store import bulk

    store = Store.open(db_url)
    store.upsert_items([_item(1), _item(2)])
    shared = ["'membranes' in title", "CPV 45252127"]
    rows = [("id-1", "membranes", 2.5, shared), ("id-1", "sensors", 1.0, [["nested", 1], {"a": "é"}]),
            ("id-2", "membranes", 2.5, list(shared))]
    with store.engine.begin() as conn:
        bulk.executemany(conn, schema.item_topics.insert(), keys=("item_id", "topic", "score", "evidence"),
                         values=rows)
        bulk.executemany(conn, schema.item_members.insert(),
                         [{"item_id": r[0], "member": r[1], "score": r[2], "reasons": r[3]} for r in rows])
        topics = conn.execute(sa.select(schema.item_topics).order_by("item_id", "topic")).all()
        members = conn.execute(sa.select(schema.item_members).order_by("item_id", "member")).all()
    assert [tuple(t) for t in topics] == [tuple(m) for m in members] == sorted(rows, key=lambda r: (r[0], r[1]))
    store.close()
