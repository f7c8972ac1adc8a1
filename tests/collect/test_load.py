"""A collect never loses a source to its own work: storing is off the event loop, a source's deadline starts
with its request, and feeds full of boilerplate neither join different stories nor make linking quadratic."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests.conftest import feed_source, write_config
from veille import pipeline
from veille.collect import HttpSettings
from veille.demo.server import FixtureServer
from veille.models import Item
from veille.store import Store, links
from veille.tag import Tagger, duplicates

BOILERPLATE = ("Chaque semaine, la rédaction sélectionne pour les professionnels de l'eau les appels d'offres, les "
               "textes réglementaires et les innovations de la filière des membranes et des capteurs, à lire en "
               "entier sur notre site avec les documents joints. Lire la suite…")
WORDS = ["station", "pompage", "réservoir", "canalisation", "forage", "lagunage", "boues", "décanteur",
         "clarificateur", "osmose", "filtre", "charbon", "ozone", "chlore", "nitrates", "pesticides", "turbidité",
         "compteur", "télérelève", "fuite", "réseau", "captage"]
TOWNS = ["Muret", "Blagnac", "Albi", "Castres", "Montauban", "Rodez", "Auch", "Tarbes", "Foix", "Cahors", "Millau",
         "Figeac", "Lourdes", "Pamiers", "Revel", "Gaillac", "Carmaux", "Lavaur", "Moissac", "Condom"]


def _title(feed: int, n: int) -> str:
    """A distinct title of 6 to 9 words."""
    return (f"{WORDS[(feed + n) % len(WORDS)].capitalize()} de {TOWNS[n % len(TOWNS)]} : lot {n} "
            f"du marché {feed}")


def _feed(feed: int, entries: list[tuple[str, str, str]]) -> bytes:
    base = datetime(2026, 11, 9, 8, tzinfo=UTC)
    body = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{escape(title)}</title>"
        f"<link>https://feed{feed}.example.org/{guid}</link><description>{escape(summary)}</description>"
        f"<pubDate>{(base + timedelta(minutes=i)).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        for i, (guid, title, summary) in enumerate(entries))
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed {feed}</title>'
            f"<language>fr</language>{body}</channel></rss>").encode()


SHARED_STORY = ("La régie des eaux de {town} retient une ultrafiltration sur fibres creuses pour traiter 400 m3/h "
                "d'eau de la Garonne et remplacer sa filière n° {n}")


def write_feeds(folder: Path, feeds: int, items: int, boilerplate: bool) -> set[frozenset[str]]:
    """`feeds` RSS files of `items` items each; the first two stories of feed 2k+1 are also in feed 2k (same
    title and text, other guid and link). Returns the true duplicates as sets of guids."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = [[(f"f{feed}-{n}", _title(feed, n), BOILERPLATE if boilerplate else f"{_title(feed, n)} : " + " ".join(
        WORDS[(feed * 7 + n * 3 + k * k) % len(WORDS)] for k in range(30))) for n in range(items)]
        for feed in range(feeds)]
    twins: set[frozenset[str]] = set()
    for feed in range(1, feeds, 2):
        for n in range(min(2, items)):
            town = TOWNS[(feed + n) % len(TOWNS)]
            title = f"Ultrafiltration : {town} choisit les fibres creuses pour son usine n° {feed}-{n}"
            story = SHARED_STORY.format(town=town, n=f"{feed}-{n}") + (f" {BOILERPLATE}" if boilerplate else "")
            for copy in (feed - 1, feed):
                entries[copy][n] = (entries[copy][n][0], title, story)
            twins.add(frozenset({entries[feed - 1][n][0], entries[feed][n][0]}))
    for feed, feed_entries in enumerate(entries):
        (folder / f"{feed}.rss").write_bytes(_feed(feed, feed_entries))
    return twins


def _count_same_story(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    calls: Counter[str] = Counter()

    original = duplicates.same_story

    def counted(*args: object) -> bool:
        calls["same_story"] += 1
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(duplicates, "same_story", counted)  # the collect looks it up there on each store
    return calls


def _collect(tmp_path: Path, count: int, path: str, http: HttpSettings,
             look: Callable[[pipeline.Context], object] = lambda ctx: None) -> tuple[pipeline.CollectReport, object]:
    """Collect `count` feeds of tmp_path/site served at `path` (`{i}`: the feed's number) into a fresh store;
    return the report and what `look` reads from the store before it closes."""
    with FixtureServer(tmp_path / "site") as server:
        folder = write_config(tmp_path / "cfg", [feed_source(f"feed-{i}", server.url(path.format(i=i)))
                                                for i in range(count)])
        ctx = pipeline.open_context(folder)
        try:
            return pipeline.collect_sources(ctx, http=http), look(ctx)
        finally:
            ctx.close()


def test_boilerplate_feeds_collect_whole_without_false_stories(tmp_path, monkeypatch):
    """200 loopback feeds × 50 items all described by one long text: every source ok, every item stored, the
    only clusters are the true duplicates, and linking compares each item with few others."""
    feeds, items = 200, 50
    twins = write_feeds(tmp_path / "site", feeds, items, boilerplate=True)
    calls = _count_same_story(monkeypatch)
    report, stored = _collect(tmp_path, feeds, "{i}.rss", HttpSettings(host_delay=0, per_host=8, concurrency=16),
                              lambda ctx: ctx.store.items())
    assert isinstance(stored, list)
    assert report.ok == feeds and report.failed == 0
    assert len(stored) == feeds * items
    guid_of = {i.id: i.url.rsplit("/", 1)[1] for i in stored}
    clusters: dict[str, set[str]] = {}
    for item in stored:
        clusters.setdefault(item.cluster_id or item.id, set()).add(guid_of[item.id])
    joined = {frozenset(c) for c in clusters.values() if len(c) > 1}
    assert joined == twins  # 200 true pairs, nothing else: no cluster larger than the true duplicates
    assert calls["same_story"] <= len(stored)  # the boilerplate proposes no candidates


def test_linking_one_by_one_stays_linear_when_every_text_is_alike(tmp_path):
    """Items arriving one at a time (no batch to find the boilerplate in) with one description: no two join
    (their titles differ), each is compared with a bounded number of others, and the comparisons do not grow
    with the archive (quadratic linking would make the last third cost 5/3 of the middle one)."""
    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}")
    calls = Counter[str]()

    def counted(*args: object) -> bool:
        calls["n"] += 1
        return duplicates.same_story(*args)  # type: ignore[arg-type]

    seen = [0]
    when = datetime(2026, 11, 9, tzinfo=UTC)
    total = 900
    try:
        for n in range(total):
            item = Item(id=f"x-{n}", source="x", kind="news", title=_title(n % 50, n), summary=BOILERPLATE,
                        url=f"https://x.example.org/{n}", published_at=when, collected_at=when, lang="fr")
            store.upsert_items([item])
            store.link_all(duplicates.link_entries([item]), counted)
            seen.append(calls["n"])
        clustered = [i for i in store.items() if i.cluster_id and i.cluster_id != i.id]
    finally:
        store.close()
    assert clustered == []
    per_item = [b - a for a, b in itertools.pairwise(seen)]
    assert max(per_item) <= duplicates.BANDS * links.KEY_CAP
    thirds = [seen[total * k // 3] - seen[total * (k - 1) // 3] for k in (1, 2, 3)]
    assert thirds[2] <= 1.3 * thirds[1], thirds


def test_deadline_starts_with_the_request_not_in_the_queue(tmp_path):
    """Eight sources answering in 0.3 s each, one request at a time, a 1-second deadline: all are ok (counted
    from the queue, the last ones would have waited 2 s and failed)."""
    write_feeds(tmp_path / "site", 8, 3, boilerplate=False)
    report, _ = _collect(tmp_path, 8, "slow/0.3/{i}.rss",
                         HttpSettings(host_delay=0, per_host=1, concurrency=1, source_deadline=1.0))
    assert [s.status for s in report.sources] == ["ok"] * 8, [s.error for s in report.sources]
    assert all(s.seconds < 1.0 for s in report.sources)  # each source's own time, not its wait


def test_storing_tagging_and_linking_run_off_the_event_loop(tmp_path, monkeypatch):
    """No store write, tagging or linking happens in the thread running the collect's event loop."""
    on_loop: list[str] = []

    def watch(name: str, method):
        def wrapper(*args, **kwargs):
            try:
                asyncio.get_running_loop()
                on_loop.append(name)
            except RuntimeError:
                pass
            return method(*args, **kwargs)
        return wrapper

    for name in ("upsert_items", "save_tags", "link_all", "record_fetch"):
        monkeypatch.setattr(Store, name, watch(name, getattr(Store, name)))
    monkeypatch.setattr(Tagger, "tag_many", watch("tag_many", Tagger.tag_many))
    write_feeds(tmp_path / "site", 20, 10, boilerplate=False)
    report, count = _collect(tmp_path, 20, "{i}.rss", HttpSettings(host_delay=0, per_host=8),
                             lambda ctx: ctx.store.count_items())
    assert report.ok == 20 and count == 200
    assert on_loop == []
