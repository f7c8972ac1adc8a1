"""`veille report`: filters by topic, kind, member, region and dates; one item per story or tender; table, CSV, JSON,
HTML and iCalendar outputs."""

from __future__ import annotations

import csv
import io
import json

import icalendar
import pytest

from tests.conftest import MEMBERS, WATCH_SOURCES, feed_source, store_items, watch_items, write_config
from veille import pipeline


@pytest.fixture
def collected(tmp_path, http, veille):
    page = {"name": "board", "kind": "tender", "type": "page", "url": http.url("tenders.html"), "country": "FR",
            "allow_private_network": True, "options": {"item": "div.row", "title": "h3", "date": "span.date"}}
    directory = write_config(tmp_path / "cfg", [feed_source("eau", http.url("eau.rss"), country="FR"),
                                                feed_source("water", http.url("water.atom"), country="CA"), page],
                             MEMBERS)
    assert veille("--config", directory, "collect").code == 0
    return directory


def _json(veille, directory, *args):
    result = veille("--config", directory, "report", "--format", "json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_filter_by_topic_kind_member_region(collected, veille):
    membranes = _json(veille, collected, "--topic", "membranes")
    assert {i["title"] for i in membranes} == {
        "Usine d'eau potable : ultrafiltration sur fibres creuses à Castanet",
        "Desalination plant in Oman awards reverse osmosis membrane contract"}
    both = _json(veille, collected, "--topic", "membranes", "--topic", "desalination")
    assert [i["title"] for i in both] == ["Desalination plant in Oman awards reverse osmosis membrane contract"]
    tenders = _json(veille, collected, "--kind", "tender")
    assert {i["kind"] for i in tenders} == {"tender"} and len(tenders) == 3
    neosens = _json(veille, collected, "--member", "neosens")
    assert {i["title"] for i in neosens} == {"Un capteur de biofilm pour les canalisations d'eau potable",
                                             "Fourniture de capteurs de chlore"}
    assert neosens[0]["members"]["neosens"]["reasons"]
    canada = _json(veille, collected, "--region", "CA")
    assert {i["country"] for i in canada} == {"CA"} and len(canada) == 2


def test_filter_by_dates_in_local_time(collected, veille):
    """--since and --until are local days: 15 Nov 23:30 Paris falls on the 15th."""
    items = _json(veille, collected, "--since", "2026-11-15", "--until", "2026-11-16")
    assert [i["title"] for i in items] == ["Un capteur de biofilm pour les canalisations d'eau potable"]
    assert items[0]["published_at"] == "2026-11-15T22:30:00+00:00"


def test_formats(collected, veille, tmp_path):
    table = veille("--config", collected, "report", "--topic", "membranes")
    assert "Desalination plant in Oman" in table.out and "2 items" in table.out
    result = veille("--config", collected, "report", "--format", "csv", "--kind", "news", "--lang", "en")
    rows = list(csv.DictReader(io.StringIO(result.out.removeprefix("\ufeff"))))
    assert len(rows) == 6 and {"title", "url", "topics", "members", "why", "relevance"} <= set(rows[0])
    assert any("polymem: topic membranes:" in r["why"] for r in rows)
    out = tmp_path / "report.html"
    result = veille("--config", collected, "report", "--format", "html", "--topic", "sensors", "-o", out)
    html = out.read_text(encoding="utf-8")
    assert result.code == 0 and "<table>" in html and "topics: sensors" in html and "<script" not in html


def test_unknown_values_exit_2(collected, veille):
    assert veille("--config", collected, "report", "--topic", "pumps").code == 2
    assert veille("--config", collected, "report", "--member", "nobody").code == 2
    assert veille("--config", collected, "report", "--kind", "blog").code == 2
    assert veille("--config", collected, "report", "--since", "yesterday").code == 2


def test_retag_applies_new_rules(collected, veille):
    """After a topics.yaml change, `veille retag` re-applies rules to stored items."""
    (collected / "topics.yaml").write_text("topics:\n  networks:\n    label: Networks\n    terms: [logiciels]\n")
    result = veille("--config", collected, "retag")
    assert result.code == 0 and "retagged 9 items" in result.out
    assert [i["title"] for i in _json(veille, collected, "--topic", "networks")] == [
        "Résultats trimestriels d'un éditeur de logiciels"]


def test_sources_health(collected, veille, tmp_path, http):
    result = veille("--config", collected, "sources")
    assert result.code == 0
    assert "board" in result.out and "ok" in result.out and "never" not in result.out.split("board")[1][:80]


def test_ordered_by_relevance(collected, veille):
    """By default the most relevant items come first; --sort date gives the newest first."""
    items = _json(veille, collected)
    scores = [sum(t["score"] for t in i["topics"].values()) for i in items]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    by_date = _json(veille, collected, "--sort", "date")
    dates = [i["published_at"] for i in by_date]
    assert dates == sorted(dates, reverse=True)
    member = _json(veille, collected, "--member", "polymem")
    member_scores = [i["members"]["polymem"]["score"] for i in member]
    assert member_scores == sorted(member_scores, reverse=True)


def test_retag_streams_in_batches(collected, veille):
    """retag goes through the archive batch by batch and rewrites the stored tags."""
    ctx = pipeline.open_context(collected)
    try:
        batches = []
        sizes = [len(b) for b in ctx.store.iter_items(batch=4)]
        assert sizes == [4, 4, 1]
        count = pipeline.retag(ctx, None, batches.append)
    finally:
        ctx.close()
    assert count == 9 and sum(batches) == 9


@pytest.fixture
def watched(tmp_path):
    """A configuration over `watch_items()`: a story in two sources, a tender in two notices, an untagged item."""
    directory = write_config(tmp_path / "watch", WATCH_SOURCES, MEMBERS)
    ctx = pipeline.open_context(directory)
    try:
        store_items(ctx, watch_items())
    finally:
        ctx.close()
    return directory


def test_copies_and_notices_count_once_unless_all_copies(watched, veille):
    """One item per story and per tender (the newest copy or notice), as the digest lists them; --all-copies
    lists them all. Items with no topic and no member match stay listed (the command's contract)."""
    merged = _json(veille, watched, "--sort", "date")
    assert [i["id"] for i in merged] == ["biofilm", "albi", "gaillac", "logiciels", "story-water", "muret-corr",
                                         "chlore"]
    every = {i["id"] for i in _json(veille, watched, "--all-copies")}
    assert every == {i["id"] for i in merged} | {"story-eau", "muret-call"}
    table = veille("--config", watched, "report", "--kind", "news")
    assert table.out.count("Gruissan") == 1 and "3 items" in table.out
    assert veille("--config", watched, "report", "--kind", "news", "--all-copies").out.count("Gruissan") == 2


def test_tagged_only_leaves_out_what_the_digest_does_not_list(watched, veille):
    assert "logiciels" in {i["id"] for i in _json(veille, watched)}
    tagged = {i["id"] for i in _json(veille, watched, "--tagged-only")}
    assert "logiciels" not in tagged and "biofilm" in tagged and len(tagged) == 6  # biofilm: a Neosens match


def test_sort_by_deadline_and_a_calendar_of_current_deadlines(watched, veille, tmp_path):
    """--sort deadline: the soonest first, none last; the calendar has one event per tender, at the deadline of
    its latest notice (the corrigendum's 4 December), with or without --all-copies."""
    ordered = [i["id"] for i in _json(veille, watched, "--kind", "tender", "--sort", "deadline")]
    assert ordered == ["chlore", "gaillac", "muret-corr", "albi"]
    for extra in ((), ("--all-copies",)):
        out = tmp_path / f"deadlines{len(extra)}.ics"
        assert veille("--config", watched, "report", "--kind", "tender", "--format", "ics", "-o", out, *extra).code == 0
        events = icalendar.Calendar.from_ical(out.read_text(encoding="utf-8")).walk("VEVENT")
        ends = sorted(e.decoded("dtend").isoformat() for e in events)
        assert ends == ["2026-11-16T11:00:00+00:00", "2026-11-24T11:00:00+00:00", "2026-12-04T11:00:00+00:00"]
