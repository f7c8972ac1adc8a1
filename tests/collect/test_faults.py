"""Hostile and broken sources over a loopback server: every run completes, the other sources are stored,
nothing is lost or doubled, and the health table says what happened."""

from __future__ import annotations

import gzip

import pytest

from tests.conftest import SITE, feed_source, write_config
from veille.models import ItemQuery
from veille.store import Store

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<rss version="2.0"><channel><title>x</title><item><title>&lol9;</title><link>https://x.example.org/1</link></item>
</channel></rss>"""


def rss(*items: str, encoding: str = "utf-8", declared: str = "UTF-8") -> bytes:
    body = "".join(items)
    return (f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel><title>t</title>{body}'
            "</channel></rss>").encode(encoding)


def item(guid: str, title: str, date: str | None = "Mon, 09 Nov 2026 08:00:00 +0100", link: str | None = None) -> str:
    pub = f"<pubDate>{date}</pubDate>" if date else ""
    return (f"<item><guid isPermaLink='false'>{guid}</guid><title>{title}</title>"
            f"<link>{link or 'https://x.example.org/' + guid}</link>{pub}</item>")


@pytest.fixture
def faults(http):
    http.routes["/gzip-bomb.rss"] = lambda r: (200, gzip.compress(b"<rss>" + b" " * 30_000_000 + b"</rss>"),
                                               "application/rss+xml", {"Content-Encoding": "gzip"})
    http.routes["/laughs.rss"] = lambda r: (200, BILLION_LAUGHS, "application/rss+xml")
    http.routes["/bad-utf8.rss"] = lambda r: (200, rss(item("u1", "Eau potable")).replace(b"potable", b"pot\xffable"),
                                              "application/rss+xml")
    http.routes["/latin1-declared-utf8.rss"] = lambda r: (
        200, rss(item("c1", "Réseau d'eau à Montréal"), encoding="latin-1"), "application/rss+xml")
    http.routes["/no-dates.rss"] = lambda r: (200, rss(item("n1", "Sans date", None)), "application/rss+xml")
    http.routes["/future.rss"] = lambda r: (200, rss(item("f1", "Demain", "Mon, 01 Jan 2035 08:00:00 +0000")),
                                            "application/rss+xml")
    http.routes["/dup-guids.rss"] = lambda r: (200, rss(item("d", "Premier"), item("d", "Second")),
                                               "application/rss+xml")
    http.routes["/hostile.rss"] = lambda r: (200, rss(item(
        "h1", "&lt;script&gt;alert(1)&lt;/script&gt;&lt;iframe src=x&gt;&lt;/iframe&gt;PFAS &lt;img onerror=x&gt;",
        link="javascript:alert(1)")), "application/rss+xml")
    return http


FAULTS = {  # source name -> (path, expected error fragment or None when it must succeed)
    "slow-body": ("trickle/0.2", "gave up after"),
    "reset": ("reset", "connection to"),
    "server-error": ("status/500", "HTTP 500"),
    "redirect-loop": ("loop", "more than 5 redirects"),
    "too-big": ("huge/11000000", "byte cap"),
    "gzip-bomb": ("gzip-bomb.rss", "byte cap"),
    "billion-laughs": ("laughs.rss", None),
    "bad-utf8": ("bad-utf8.rss", None),
    "wrong-charset": ("latin1-declared-utf8.rss", None),
    "no-dates": ("no-dates.rss", None),
    "future-dates": ("future.rss", None),
    "duplicate-guids": ("dup-guids.rss", None),
    "hostile": ("hostile.rss", None),
}


def test_every_fault_is_contained(veille, tmp_path, faults, monkeypatch):
    monkeypatch.setenv("VEILLE_HTTP_TIMEOUT", "1")
    sources = [feed_source(name, faults.url(path)) for name, (path, _) in FAULTS.items()]
    sources.append(feed_source("good", faults.url("eau.rss")))
    directory = write_config(tmp_path, sources)
    result = veille("--config", directory, "collect")
    assert result.code == 0
    for name, (_, error) in FAULTS.items():
        if error:
            assert f"failed: {name}: " in result.err and error in result.err.split(f"failed: {name}: ")[1].split(
                "\n")[0], name
        else:
            assert f"failed: {name}:" not in result.err, (name, result.err)
    store = Store.open(f"sqlite:///{directory / 'veille.db'}")
    by_source = {s: store.items(ItemQuery(sources=(s,))) for s in ("good", "billion-laughs", "bad-utf8",
                                                                    "wrong-charset", "no-dates", "future-dates",
                                                                    "duplicate-guids", "hostile")}
    assert len(by_source["good"]) == 4  # the healthy source is stored whole
    assert all(len(i.title) < 1000 for i in by_source["billion-laughs"])  # no entity expansion
    assert by_source["wrong-charset"][0].title == "Réseau d'eau à Montréal"
    assert by_source["no-dates"][0].published_at is None  # stored, listed by collection time
    from datetime import UTC, datetime, timedelta

    this_week = store.items(ItemQuery(since=datetime.now(UTC) - timedelta(days=1)))
    assert {"Sans date", "Demain"} <= {i.title for i in this_week}  # a 2035 date does not hide the item
    assert len(by_source["duplicate-guids"]) == 1  # one guid, one item
    hostile = by_source["hostile"][0]
    assert "<" not in hostile.title and "script" not in hostile.title.lower() and hostile.url is None
    states = store.fetch_states()
    assert states["server-error"].failures == 1 and "HTTP 500" in (states["server-error"].last_error or "")
    health = veille("--config", directory, "sources").out
    assert "gzip-bomb" in health and "byte cap" in health
    again = veille("--config", directory, "collect")
    assert "items: 0 new" in again.out  # nothing doubled on the next run
    assert store.count_items() == sum(len(v) for v in by_source.values())


def test_changing_guids_and_vanished_selectors(veille, tmp_path, http):
    """A feed whose guids change on every fetch updates nothing twice (same link, same item via the URL
    cluster); a page whose item selector no longer matches is a failure named at once, in `collect` and in
    `try`, and a field selector that matches in no item is a warning naming it."""
    counter = iter(range(100))
    http.routes["/moving.rss"] = lambda r: (200, rss(item(f"g{next(counter)}", "Toujours la même nouvelle",
                                                          link="https://x.example.org/same")), "application/rss+xml")
    page = {"name": "board", "kind": "tender", "type": "page", "url": http.url("tenders.html"),
            "allow_private_network": True, "options": {"item": "div.row", "title": "h3"}}
    directory = write_config(tmp_path, [feed_source("moving", http.url("moving.rss")), page])
    veille("--config", directory, "collect")
    veille("--config", directory, "collect")
    store = Store.open(f"sqlite:///{directory / 'veille.db'}")
    moving = store.items(ItemQuery(sources=("moving",)))
    assert len({i.cluster_id for i in moving}) == 1  # two ids, one story
    http.overrides["/tenders.html"] = (SITE / "tenders.html").read_bytes().replace(b'class="row"', b'class="line"')
    result = veille("--config", directory, "collect", "--source", "board")
    assert result.code == 1 and "failed: board: the item selector 'div.row' matched nothing" in result.err
    assert store.fetch_states()["board"].last_status == "failed"  # `veille sources` and the admin alert say so
    tried = veille("--config", directory, "try", "board")
    assert tried.code == 1 and "'div.row' matched nothing" in tried.err
    http.overrides["/tenders.html"] = (SITE / "tenders.html").read_bytes().replace(b"<h3", b"<h4")
    fields = veille("--config", directory, "try", "board")
    assert fields.code == 0 and "board: the title selector 'h3' matched in none of the 4 items" in fields.err


