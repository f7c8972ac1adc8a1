"""Shared fixtures: loopback HTTP and SMTP servers, configuration folders, a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path

import pytest
import yaml

from veille.cli import main
from veille.context import Context
from veille.demo.server import FixtureServer
from veille.demo.smtp import SavingHandler, start_smtp
from veille.models import Item, MemberMatch, TopicTag
from veille.tag.duplicates import link_entries, same_story

FIXTURES = Path(__file__).parent / "fixtures"
SITE = FIXTURES / "site"
SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"


def need_corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"real payloads not available: {CORPUS} is absent (the shared corpus sits beside the checkout)")
    return CORPUS


@pytest.fixture
def http() -> Iterator[FixtureServer]:
    """An HTTP server on 127.0.0.1 serving tests/fixtures/site."""
    with FixtureServer(SITE) as server:
        yield server


@dataclass
class Smtp:
    host: str
    port: int
    handler: SavingHandler


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[Smtp]:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it receives."""
    controller, handler = start_smtp(tmp_path / "received")
    try:
        yield Smtp("127.0.0.1", controller.port, handler)
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see the developer's VEILLE_* settings; the database lives in the test's folder."""
    for key in list(os.environ):
        if key.startswith("VEILLE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("VEILLE_TZ", "Europe/Paris")
    monkeypatch.setenv("VEILLE_HTTP_HOST_DELAY", "0")  # every fixture is on 127.0.0.1


def write_config(directory: Path, sources: list[dict], members: list[dict] | None = None,
                 digest: dict | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True, sort_keys=False))
    body: dict = {"digest": digest or {"recipients": ["group@wsm.example.org"]}, "members": members or []}
    (directory / "members.yaml").write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False))
    return directory


def feed_source(name: str, url: str, **extra: object) -> dict:
    return {"name": name, "kind": "news", "type": "feed", "url": url, "allow_private_network": True, **extra}


MEMBERS = [
    {"id": "polymem", "name": "Polymem", "emails": ["veille@polymem.example.org"],
     "topics": ["membranes", "drinking_water"], "keywords": ["ultrafiltration"], "digest": True},
    {"id": "neosens", "name": "Neosens", "emails": ["veille@neosens.example.org"],
     "topics": ["sensors", "networks"], "keywords": ["biofilm"]},
]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def veille(capsys: pytest.CaptureFixture[str]):
    """Run the `veille` command line in-process and return its exit code and output."""

    def run(*args: str | Path) -> Result:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


# --- a small archive written for the rules of lists: copies, tender notices, deadlines, untagged items, members ---

STORY = ("Gruissan choisit l'osmose inverse pour sa nouvelle usine de dessalement d'eau de mer",
         "La commune de Gruissan a retenu un procédé d'osmose inverse pour produire 5 000 m3 d'eau potable par "
         "jour à partir de l'eau de mer, avec une mise en service prévue à l'été 2028.")
TENDER = "Station d'épuration de Muret : extension et mise aux normes"
WATCH_SOURCES = [feed_source("eau", "http://127.0.0.1:9/eau.rss"), feed_source("water", "http://127.0.0.1:9/water.atom"),
                 {**feed_source("board", "http://127.0.0.1:9/tenders.html"), "kind": "tender"}]


def _at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def _topic(*ids: str) -> dict[str, TopicTag]:
    return {t: TopicTag(2.0, [f"term {t!r} in title"]) for t in ids}


def _match(member: str, reason: str) -> dict[str, MemberMatch]:
    return {member: MemberMatch(3.0, [reason])}


def watch_items() -> list[Item]:
    """The archive of the `watch` site: each item says what it is there to show."""
    def item(item_id: str, source: str, kind: str, title: str, published: datetime, **fields: object) -> Item:
        return Item(id=item_id, source=source, kind=kind, title=title, published_at=published,
                    collected_at=_at(20, 6), country="FR", url=f"https://{source}.example.org/{item_id}",
                    **fields)  # type: ignore[arg-type]

    return [
        # one story carried by two sources: one row, the newer copy, "aussi dans : eau"
        item("story-eau", "eau", "news", STORY[0], _at(12, 9), summary=STORY[1],
             topics=_topic("desalination", "membranes"), members=_match("polymem", "topic membranes")),
        item("story-water", "water", "news", STORY[0], _at(12, 11), summary=STORY[1],
             topics=_topic("desalination", "membranes"), members=_match("polymem", "topic membranes")),
        # one tender in two notices (the call and its corrigendum, sharing the BOAMP number): one row, its history
        item("muret-call", "board", "tender", TENDER, _at(2), buyer="Ville de Muret", related=["boamp:26-100"],
             summary="Filière membranaire (ultrafiltration) pour la réutilisation des eaux usées traitées.",
             deadline_at=datetime(2026, 11, 30, 11, tzinfo=UTC), notice_type="contract-notice",
             topics=_topic("wastewater"), members=_match("polymem", "keyword ultrafiltration")),
        item("muret-corr", "board", "tender", TENDER + " (rectificatif)", _at(10), buyer="Ville de Muret",
             summary="Date limite reportée au 4 décembre.", related=["boamp:26-100", "boamp:26-140"],
             deadline_at=datetime(2026, 12, 4, 11, tzinfo=UTC), notice_type="corrigendum",
             topics=_topic("wastewater"), members=_match("polymem", "keyword ultrafiltration")),
        # a closed tender (its deadline is before NOW), for Neosens only
        item("chlore", "board", "tender", "Fourniture de capteurs de chlore pour le réseau de Castres", _at(3),
             buyer="Castres", deadline_at=datetime(2026, 11, 16, 11, tzinfo=UTC), topics=_topic("sensors"),
             members=_match("neosens", "topic sensors")),
        # an open tender closing soonest, and one without a deadline
        item("gaillac", "board", "tender", "Réhabilitation du réseau d'eau potable de Gaillac", _at(14),
             buyer="Gaillac", deadline_at=datetime(2026, 11, 24, 11, tzinfo=UTC), topics=_topic("networks")),
        item("albi", "board", "tender", "Diagnostic des forages d'Albi", _at(15), buyer="Albi",
             topics=_topic("drinking_water")),
        # no topic and no member match: hidden by default
        item("logiciels", "eau", "news", "Résultats trimestriels d'un éditeur de logiciels", _at(13)),
        # no topic, matched by Neosens only: hidden for Polymem as if untagged (nothing tells it someone matched)
        item("biofilm", "eau", "news", "Un colloque sur le biofilm à Nantes", _at(16),
             members=_match("neosens", "keyword biofilm")),
    ]


def store_items(ctx: Context, items: list[Item]) -> None:
    """Store items with their tags and cluster them as a collect does (each source's batch linked in turn)."""
    ctx.store.upsert_items(items)
    ctx.store.save_tags(items)
    for _, batch in groupby(sorted(items, key=lambda i: i.source), key=lambda i: i.source):
        ctx.store.link_all(link_entries(list(batch)), same_story)
