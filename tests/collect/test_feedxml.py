"""The feed connector's fast path (lxml, `veille.collect.feedxml`) gives the same items as feedparser, field by
field, on every feed of the shared corpus and on feeds written to trip it; what it cannot read alike, it leaves to
feedparser."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import pytest

from tests.collect.test_faults import BILLION_LAUGHS
from veille.collect import feedxml
from veille.collect.connectors import feed
from veille.errors import TerminalSourceError
from veille.models import Source

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "feeds"
SOURCE = Source(name="s", kind="news", type="feed", url="https://example.org/feed")
URL = "https://example.org/feed"


def both_paths(data: bytes, content_type: str = "", monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[
        list[object] | str, list[object] | str, bool]:
    """(what the connector gives, what feedparser alone gives, whether the fast path read it); an error is its
    class name."""
    def run() -> list[object] | str:
        try:
            return list(feed.parse(SOURCE, data, URL, content_type))
        except TerminalSourceError as exc:
            return type(exc).__name__

    raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    taken = feedxml.read(raw, content_type) is not None
    ours = run()
    assert monkeypatch is not None
    with monkeypatch.context() as m:
        m.setattr(feedxml, "read", lambda *args: None)
        theirs = run()
    return ours, theirs, taken


def differences(ours: list[object] | str, theirs: list[object] | str) -> list[str]:
    if isinstance(ours, str) or isinstance(theirs, str) or len(ours) != len(theirs):
        return [] if ours == theirs else [f"{ours!r:.200} != {theirs!r:.200}"]
    out = []
    for n, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if dataclasses.is_dataclass(a) and type(a) is type(b):
            out += [f"entry {n} {f.name}: {getattr(a, f.name)!r} != {getattr(b, f.name)!r}"
                    for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name)]
        elif a != b:
            out.append(f"entry {n}: {a!r} != {b!r}")
    return out


CORPUS_FEEDS = sorted(p for p in CORPUS.glob("*") if p.suffix != ".md") if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS_FEEDS, reason="the shared corpus is not beside the checkout")
def test_both_paths_give_the_same_items_on_the_corpus(monkeypatch):
    taken = []
    for path in CORPUS_FEEDS:
        ours, theirs, fast = both_paths(path.read_bytes(), monkeypatch=monkeypatch)
        assert differences(ours, theirs) == [], path.name
        taken += [path.name] if fast else []
    # the fast path is the usual one: most real feeds are well formed and plain
    assert len(taken) >= len(CORPUS_FEEDS) // 2, taken


def rss(items: str, channel: str = "<title>t</title>", declared: str = "UTF-8", root: str = '<rss version="2.0">',
        encoding: str = "utf-8") -> bytes:
    return (f'<?xml version="1.0" encoding="{declared}"?>{root}<channel>{channel}{items}</channel></rss>'
            ).encode(encoding)


def atom(entries: str, attributes: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"{attributes}>'
            f"<title>t</title><id>urn:t</id>{entries}</feed>").encode()


READABLE = ["Mon, 09 Nov 2026 08:00:00 +0100", "Mon, 09 Nov 2026 08:00:00 GMT", "9 Nov 2026 08:00 EST",
            "Mon, 09 Nov 26 08:00:00 -0000", "mon, 09 nov 2026 08:00:00 PST", "2026-11-09T08:00:00Z",
            "2026-11-09T08:00:00.123456+02:00", "2026-11-09", "2026-11-09 08:00", "Mon, 09 Nov 2026 08:00:00 CEST",
            "2026-11-09T08:00:00.1234Z", "Mon, 9 Nov 2026 8:00:00 +0530", " Mon, 09 Nov 2026 08:00:00 UT "]
ODD = ["Seg, 24 Set 2018 19:42:40 -0300", "12 novembre 2026", "not a date", "Mon, 31 Feb 2026 08:00:00 GMT",
       "Tue, 10 Nov 2026 25:00:00 GMT", "20261109T080000Z", "2026-W46", "11/09/2026", "1731139200"]
DATES = READABLE + ODD
MEDIA = 'xmlns:media="http://search.yahoo.com/mrss/"'
DC = 'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
CONTENT = 'xmlns:content="http://purl.org/rss/1.0/modules/content/"'
TRIPS = {
    "plain": rss("<item><title>Eau</title><link>https://x.org/1</link><guid>g1</guid></item>"),
    "entities and CDATA": rss("<item><title>PFAS &amp; eau &lt;b&gt;potable&lt;/b&gt;</title>"
                              "<description><![CDATA[<p>Une <a href='/a'>station</a> &eacute;pure</p>]]></description>"
                              "<link>https://x.org/a?b=1&amp;c=2&amp;amp;d</link></item>"),
    "content only": rss("<item><title>t</title><content:encoded>&lt;p&gt;corps&lt;/p&gt;</content:encoded></item>",
                        root=f'<rss version="2.0" {CONTENT}>'),
    "content then description": rss("<item><title>t</title><content:encoded>long</content:encoded>"
                                    "<description>court</description></item>", root=f'<rss version="2.0" {CONTENT}>'),
    "description then content": rss("<item><title>t</title><description>court</description>"
                                    "<content:encoded>long</content:encoded></item>",
                                    root=f'<rss version="2.0" {CONTENT}>'),
    "two descriptions": rss("<item><title>t</title><description>un</description><description>deux</description>"
                            "</item>"),
    "guids": rss("<item><title>a</title><guid>https://x.org/perma</guid></item>"
                 "<item><title>b</title><guid isPermaLink='false'>https://x.org/not</guid></item>"
                 "<item><title>c</title><guid isPermaLink='true'>  https://x.org/padded  </guid><link></link></item>"
                 "<item><title>d</title><link>https://x.org/d</link><guid>https:///x.org/slashes</guid></item>"
                 "<item><title>e</title><guid>tag:x.org,2026:e</guid></item>"),
    "no title nor link": rss("<item><description>seul</description></item><item><guid isPermaLink='false'>z</guid>"
                             "</item><item><title>t</title></item>"),
    "dates": rss("".join(f"<item><title>d{n}</title><guid>g{n}</guid><pubDate>{d}</pubDate></item>"
                         for n, d in enumerate(READABLE))),
    **{f"odd date {d!r}": rss(f"<item><title>d</title><pubDate>{d}</pubDate></item><item><title>e</title>"
                              "<pubDate>Mon, 09 Nov 2026 08:00:00 GMT</pubDate></item>") for d in ODD},
    "dc and dcterms dates": rss("".join(f"<item><title>d{n}</title><dc:date>{d}</dc:date><dcterms:created>{d}"
                                        f"</dcterms:created><dcterms:issued>2026-11-10T00:00:00Z</dcterms:issued>"
                                        f"</item>" for n, d in enumerate(READABLE)), root=f'<rss version="2.0" {DC}>'),
    "two updated dates": rss("<item><title>d</title><dc:date>2026-11-09</dc:date><dcterms:modified>2026-11-10"
                             "</dcterms:modified></item>", root=f'<rss version="2.0" {DC}>'),
    "languages": rss("<item xml:lang='pt-BR'><title>a</title></item><item><title xml:lang='es'>b</title></item>"
                     "<item><title xml:lang=''>c</title><description xml:lang='it'>d</description></item>"
                     "<item><dc:language>de</dc:language><title>e</title></item>",
                     channel="<title>t</title><language>fr_FR</language>", root=f'<rss version="2.0" {DC}>'),
    "root language": rss("<item><title>a</title></item>", root='<rss version="2.0" xml:lang="en-GB">'),
    "titles twice": rss("<item><title>Un</title><dc:title>Deux</dc:title></item>"
                        "<item><title></title><dc:title>Trois</dc:title></item>"
                        "<item><media:content url='https://x.org/i.jpg'><media:title>Image</media:title>"
                        "</media:content><title>Quatre</title></item>"
                        "<item><title>Cinq</title><media:title>Six</media:title></item>",
                        root=f'<rss version="2.0" {DC} {MEDIA}>'),
    "source": rss("<item><title>a</title><source url='https://y.org/rss'>Y</source></item>"),
    "C1 controls and mended UTF-8": rss("<item><title>L\u0092eau \u0080 10</title><description>Ã©puration"
                                        "</description></item>"),
    "latin-1 declared": rss("<item><title>Réseau d'eau à Montréal</title></item>", declared="ISO-8859-1",
                            encoding="latin-1"),
    "latin-1 declared UTF-8": rss("<item><title>Réseau d'eau à Montréal</title></item>", encoding="latin-1"),
    "bad UTF-8": rss("<item><title>pot_able</title></item>").replace(b"_", b"\xff"),
    "windows-1251": rss("<item><title>Новости</title></item>", declared="windows-1251", encoding="cp1251"),
    "items outside the channel": b'<rss version="2.0"><channel><title>t</title></channel><item><title>a</title>'
                                 b"</item></rss>",
    "nested items": rss("<item><title>a</title><item><title>b</title></item></item>"),
    "RSS 0.91": rss("<item><title>a</title><link>https://x.org/a</link></item>", root='<rss version="0.91">'),
    "userland namespace": rss("<item><title>a</title></item>",
                              root='<rss version="2.0" xmlns="http://backend.userland.com/rss2">'),
    "RSS 1.0": b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
               b'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel '
               b'rdf:about="https://x.org/"><title>t</title><dc:language>pt</dc:language></channel>'
               b'<item rdf:about="https://x.org/1"><title>a</title><dc:date>2026-11-09T08:00:00-03:00</dc:date>'
               b'</item><item rdf:about="https://x.org/2"><title>b</title><link>https://x.org/b</link></item>'
               b"</rdf:RDF>",
    "Atom": atom("<entry><title type='html'>&lt;b&gt;Eau&lt;/b&gt;</title><id>https://x.org/id1</id>"
                 "<updated>2026-11-09T08:00:00Z</updated><summary>s</summary><content type='html'>c</content></entry>"
                 "<entry><title type='text'>a &lt; b</title><id>tag:x.org,2026:2</id><link rel='self' href='/self'/>"
                 "<link href='https://x.org/alt'/><link rel='alternate' type='text/html' href='https://x.org/alt2'/>"
                 "<link rel='enclosure' href='https://x.org/f.mp3'/><published>2026-11-08T08:00:00+01:00</published>"
                 "</entry><entry><title>b</title><id>https://x.org/id3</id><link rel='alternate' "
                 "type='application/pdf' href='https://x.org/p.pdf'/><content>texte</content></entry>",
                 " xml:lang='fr'"),
    "Atom xhtml": atom("<entry><title type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><b>Eau</b></div>"
                       "</title><id>i</id><content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>c</p>"
                       "</div></content></entry>"),
    "Atom base64": atom("<entry><title>t</title><id>i</id><content type='application/octet-stream'>aGVsbG8=</content>"
                        "</entry>"),
    "Atom 0.3": b'<?xml version="1.0"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>t</title>'
                b"<entry><title>a</title><link rel='alternate' type='text/html' href='https://x.org/a'/>"
                b"<issued>2026-11-09T08:00:00Z</issued></entry></feed>",
    "xml:base": atom("<entry xml:base='https://x.org/dir/'><title>a</title><id>i</id><link href='rel'/></entry>"),
    "DOCTYPE": BILLION_LAUGHS,
    "HTML entity without DTD": rss("<item><title>caf&eacute;</title></item>"),
    "empty feed": rss(""),
    "not a feed": b"<html><body><p>Moved</p></body></html>",
    "markup inside description": rss("<item><title>t</title><description><p>para</p></description></item>"),
    "gzip": gzip.compress(rss("<item><title>z</title></item>")),
}


@pytest.mark.parametrize("name", sorted(TRIPS))
def test_both_paths_give_the_same_items_on_feeds_written_to_trip_them(name, monkeypatch):
    ours, theirs, _ = both_paths(TRIPS[name], monkeypatch=monkeypatch)
    assert differences(ours, theirs) == []


@pytest.mark.parametrize("content_type", ["application/rss+xml; charset=iso-8859-1", "text/xml",
                                          "text/xml; charset=UTF-8", "application/xml; charset=windows-1252"])
def test_the_http_charset_is_obeyed_as_feedparser_obeys_it(content_type, monkeypatch):
    data = rss("<item><title>Réseau d'eau à Montréal</title></item>")
    ours, theirs, _ = both_paths(data, content_type, monkeypatch)
    assert differences(ours, theirs) == []


def test_the_fast_path_reads_plain_feeds_and_leaves_the_rest():
    assert feedxml.read(TRIPS["plain"]) is not None
    assert feedxml.read(TRIPS["Atom"]) is not None
    for name in ("DOCTYPE", "Atom xhtml", "xml:base", "bad UTF-8", "nested items", "empty feed", "not a feed",
                 "two descriptions", "Atom 0.3"):
        assert feedxml.read(TRIPS[name]) is None, name


PIECES = [  # parts an RSS item may be made of, drawn at random below
    "<title>Station d'épuration</title>", "<title></title>", "<title>PFAS &amp; eau</title>",
    "<dc:title>Titre DC</dc:title>", "<media:title>Média</media:title>",
    "<media:content url='https://x.org/m.jpg'><media:title>Imbriqué</media:title></media:content>",
    "<link>https://x.org/a?utm_source=x&amp;b=1</link>", "<link>/relatif</link>", "<link></link>",
    "<guid>https://x.org/g</guid>", "<guid isPermaLink='false'>g-42</guid>", "<guid>tag:x.org,2026:1</guid>",
    "<description>Membranes &lt;b&gt;céramiques&lt;/b&gt;</description>",
    "<description><![CDATA[<p>Eau</p>]]></description>",
    "<content:encoded><![CDATA[<div>Corps <script>x()</script></div>]]></content:encoded>",
    "<pubDate>Mon, 09 Nov 2026 08:00:00 +0100</pubDate>", "<pubDate>2026-11-09T08:00:00Z</pubDate>",
    "<pubDate>Seg, 24 Set 2018 19:42:40 -0300</pubDate>", "<dc:date>2026-11-10</dc:date>",
    "<dcterms:created>2026-11-01T00:00:00+01:00</dcterms:created>", "<category>eau</category>",
    "<author>a@x.org</author>", "<enclosure url='https://x.org/f.mp3' type='audio/mpeg' length='1'/>",
    "<source url='https://y.org/rss'>Y</source>", "<dc:language>de</dc:language>",
    "<description xml:lang='es'>Depuradora de aguas</description>", "<comments>https://x.org/c</comments>",
]


LANGS = ["", " xml:lang='pt'"]


def test_both_paths_agree_on_random_feeds(monkeypatch):
    """300 feeds of items drawn from PIECES (in random order, some twice): every one gives the same items both
    ways, and the fast path reads a good share of them."""
    import random

    rng = random.Random(2026)
    fast = 0
    for _ in range(300):
        items = "".join(f"<item{rng.choice(LANGS)}>{''.join(rng.choices(PIECES, k=rng.randint(1, 6)))}</item>"
                        for _ in range(rng.randint(1, 4)))
        channel = rng.choice(["<title>t</title>", "<title>t</title><language>fr</language>", ""])
        data = rss(items, channel, root=f'<rss version="2.0" {DC} {MEDIA} {CONTENT}>')
        ours, theirs, taken = both_paths(data, monkeypatch=monkeypatch)
        assert differences(ours, theirs) == [], data.decode()
        fast += taken
    assert fast >= 30, fast
