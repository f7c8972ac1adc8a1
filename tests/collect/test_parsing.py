"""Parsing in worker processes: the same items as in the collecting process, on the other cores, and a worker
that dies costs no source. Languages are guessed once per source when its items agree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.collect.test_load import _collect, write_feeds
from veille.collect import HttpSettings, parsing
from veille.collect.language import SAMPLE, detect_many

HTTP = HttpSettings(host_delay=0, per_host=8, concurrency=8)


def _stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int, feeds: int = 12) -> list[tuple]:
    monkeypatch.setenv("VEILLE_COLLECT_PROCESSES", str(processes))
    report, stored = _collect(tmp_path, feeds, "{i}.rss", HTTP, lambda ctx: sorted(
        (i.id, i.title, i.lang, i.cluster_id, sorted((t, round(g.score, 6)) for t, g in i.topics.items()),
         sorted(i.members)) for i in ctx.store.items()))
    assert report.ok == feeds, [s.error for s in report.sources]
    assert isinstance(stored, list)
    return stored


def _pids_of_parsing(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make every parse write the id of the process it runs in to `folder` (the workers inherit the patch)."""
    folder.mkdir()
    original = parsing.parse_source

    def recorded(*args, **kwargs):  # type: ignore[no-untyped-def]
        (folder / str(os.getpid())).touch()
        return original(*args, **kwargs)

    monkeypatch.setattr(parsing, "parse_source", recorded)


def test_worker_processes_store_what_the_collecting_process_stores(tmp_path, monkeypatch):
    write_feeds(tmp_path / "a" / "site", 12, 10, boilerplate=False)
    write_feeds(tmp_path / "b" / "site", 12, 10, boilerplate=False)
    in_process = _stored(tmp_path / "a", monkeypatch, 0)
    _pids_of_parsing(monkeypatch, tmp_path / "pids")
    in_workers = _stored(tmp_path / "b", monkeypatch, 2)
    assert len(in_workers) == 120 and any(topics for *_, topics, _ in in_workers)
    assert in_workers == in_process
    pids = {int(p.name) for p in (tmp_path / "pids").iterdir()}
    assert os.getpid() not in pids and len(pids) == 2  # parsed by the two workers only


def test_few_sources_are_parsed_in_the_collecting_process(tmp_path, monkeypatch):
    write_feeds(tmp_path / "site", parsing.MIN_SOURCES - 1, 3, boilerplate=False)
    _pids_of_parsing(monkeypatch, tmp_path / "pids")
    _stored(tmp_path, monkeypatch, 2, parsing.MIN_SOURCES - 1)
    assert {int(p.name) for p in (tmp_path / "pids").iterdir()} == {os.getpid()}


def test_a_worker_that_dies_costs_no_source(tmp_path, monkeypatch):
    """A worker killed while parsing (a hostile payload crashing the parser): that payload and the ones after are
    parsed in the collecting process; every source is stored."""
    write_feeds(tmp_path / "site", 12, 5, boilerplate=False)
    original, collecting = parsing.parse_source, os.getpid()

    def dying(source, *args, **kwargs):  # type: ignore[no-untyped-def]
        if source.name == "feed-3" and os.getpid() != collecting:  # the workers inherit the patch
            os._exit(9)
        return original(source, *args, **kwargs)

    monkeypatch.setattr(parsing, "parse_source", dying)
    assert len(_stored(tmp_path, monkeypatch, 2)) == 60


def test_one_language_for_a_source_whose_sample_agrees():
    french = [f"La station d'épuration numéro {n} passe au traitement tertiaire des eaux usées" for n in range(20)]
    french[7] = "Ozone"  # too short to guess alone: the source's language
    assert detect_many(french) == ["fr"] * 20


def test_each_text_its_own_language_when_the_sample_disagrees():
    english = "The city water utility awards a contract for a reverse osmosis desalination plant"
    french = "La régie des eaux retient une ultrafiltration sur fibres creuses pour son usine"
    texts = [english if n % 2 else french for n in range(4 * SAMPLE)]
    assert detect_many(texts) == ["en" if n % 2 else "fr" for n in range(4 * SAMPLE)]
    assert detect_many(["Ozone", english]) == [None, "en"]  # a handful: each alone


def test_tags_come_back_from_a_worker_whole():
    """What the parsing processes send back (pickled): every score, piece of evidence and reason."""
    import pickle

    from veille.models import Item, MemberMatch, TopicTag

    item = Item(id="x", source="s", kind="news", title="t",
                topics={"membranes": TopicTag(2.5, ["'ultrafiltration' in title"])},
                members={"polymem": MemberMatch(3.0, ["topic membranes: 'ultrafiltration' in title", "keyword"])})
    back = pickle.loads(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == item and isinstance(back.topics["membranes"], TopicTag)
    assert back.members["polymem"].reasons == ["topic membranes: 'ultrafiltration' in title", "keyword"]
