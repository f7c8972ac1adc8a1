"""Every real feed of the shared corpus goes through the `feed` connector."""

from __future__ import annotations

import pytest

from tests.conftest import need_corpus
from veille.collect import parse_payload
from veille.errors import TerminalSourceError
from veille.models import Source

NOT_FEEDS = {"marketwatch-document-moved.rss", "notafeed.html"}  # HTML bodies served at feed URLs
NO_USABLE_ENTRY = {"incomplete-fields.atom"}  # one entry with neither title nor link
MIN_ITEMS = {"guardian-us-2018.rss": 50, "science-twis-rss1.rdf": 60, "jn-pt-ultimas-iso8859-1.rss": 30,
             "nshipster-invalid-chars.xml.gz": 20, "oren-ru-windows-1251.rss": 10, "pcmag-illegally-nested.rss": 10}


def _feeds():
    corpus = need_corpus()
    return sorted((corpus / "feeds").iterdir())


def _source() -> Source:
    return Source(name="corpus", kind="news", type="feed", url="https://corpus.example.org/feed")


def test_every_corpus_feed(subtests=None):
    """Each real feed yields items that all have a title and an http(s) link; non-feeds raise a clear error."""
    checked = 0
    for path in _feeds():
        content = path.read_bytes()
        if path.name in NOT_FEEDS:
            with pytest.raises(TerminalSourceError, match="not a readable RSS/Atom feed"):
                parse_payload(_source(), content)
            continue
        items = parse_payload(_source(), content)
        if path.name in NO_USABLE_ENTRY:
            assert items == [], path.name
            continue
        assert len(items) >= MIN_ITEMS.get(path.name, 1), path.name
        for item in items:
            assert item.title.strip(), path.name
            assert item.url and item.url.startswith(("http://", "https://")), (path.name, item.url)
        checked += 1
    assert checked >= 12


def test_encodings_are_decoded():
    """Latin-1 without declaration, ISO-8859-1 and windows-1251 feeds come out as correct Unicode."""
    corpus = need_corpus()
    uol = parse_payload(_source(), (corpus / "feeds/uol-noticias-br-latin1-nodecl.rss").read_bytes())
    assert any("inquérito" in i.title for i in uol)
    assert all(i.published_at is not None for i in uol)  # Portuguese day/month names ("Seg, 24 Set 2018")
    oren = parse_payload(_source(), (corpus / "feeds/oren-ru-windows-1251.rss").read_bytes())
    assert any("Бузулук" in i.title for i in oren)
    jn = parse_payload(_source(), (corpus / "feeds/jn-pt-ultimas-iso8859-1.rss").read_bytes())
    assert any("ã" in i.title for i in jn)
