"""Normalisation of raw entry fields (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from veille.collect.normalize import canonical_url, item_id, parse_date, plain_text


def test_canonical_url_lowercases_and_drops_tracking():
    """Scheme and host lower-cased, default port, fragment and utm_*/fbclid parameters removed."""
    assert canonical_url("HTTPS://Example.COM:443/A/b?utm_source=x&id=3&fbclid=y#frag") == "https://example.com/A/b?id=3"
    assert canonical_url("http://example.com:8080") == "http://example.com:8080/"


def test_canonical_url_refuses_other_schemes():
    """javascript:, data: and relative URLs give None, so they never reach a link in an email."""
    assert canonical_url("javascript:alert(1)") is None
    assert canonical_url("data:text/html,<script>") is None
    assert canonical_url("/relative") is None


def test_plain_text_strips_markup_and_scripts():
    """HTML becomes whitespace-normalised text; script content is dropped; entities decoded."""
    assert plain_text("<p>Eau <b>potable</b></p>\n<script>alert(1)</script> &amp; réseaux") == "Eau potable & réseaux"


def test_plain_text_caps_length_on_a_word():
    text = plain_text("mot " * 500, cap=50)
    assert len(text) <= 50 and text.endswith("…")


def test_item_id_is_stable_and_source_scoped():
    assert item_id("a", "guid-1") == item_id("a", "guid-1")
    assert item_id("a", "guid-1") != item_id("b", "guid-1")


def test_parse_date_reads_several_languages_and_zones():
    """ISO, RFC 822 and French/Portuguese dates; naive times read in the source's zone."""
    assert parse_date("2026-11-12T10:00:00+01:00") == datetime(2026, 11, 12, 9, tzinfo=UTC)
    assert parse_date("Mon, 09 Nov 2026 10:00:00 +0100") == datetime(2026, 11, 9, 9, tzinfo=UTC)
    assert parse_date("12 novembre 2026 à 14h30", "Europe/Paris") == datetime(2026, 11, 12, 13, 30, tzinfo=UTC)
    assert parse_date("Seg, 24 Set 2018 19:42:40 -0300") == datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)
    assert parse_date("09/11/2026", "Europe/Paris") == datetime(2026, 11, 8, 23, tzinfo=UTC)
    assert parse_date("not a date") is None
    assert parse_date("") is None


@pytest.mark.parametrize(("given", "number"), [("091489-2019", "91489-2019"), ("91489-2019", "91489-2019"),
                                               ("2019/S 035-091489", "91489-2019"), ("000001-2024", "1-2024"),
                                               ("2020/S 064-152048", "152048-2020"), ("Lot 3", None), ("", None)])
def test_ted_numbers_meet_whatever_format_they_come_in(given, number):
    """R2.0.9 pads TED's publication numbers with zeros, the API and eForms do not: one form for all of them."""
    from veille.collect.tender import ted_number

    assert ted_number(given) == number


TRICKY = ["http://example.com", "https://example.com/", "https://a.example.org/x/y.html", "http://a//b",
          "https://Example.com/a", "HTTP://example.com/a", "https://example.com:443/a", "https://example.com:80/a",
          "http://example.com:80", "https://user@example.com/a", "https://example.com/a?b=1", "https://example.com/a#f",
          "https://example.com/a?utm_source=x", "https://example.com/a b", "https://example.com/a\tb",
          "https://example.com/é/ü", "https://xn--bcher-kva.example/a", "https://exa_mple.com/a", "http://./",
          "https://example.com/a;b=c/d", "https://[::1]/a", "https://example.com/%7Euser", "https://example.com?x",
          "https://example.com/a?", "https://example.com/a#", "ftp://example.com/a", "https:example.com/a",
          "https:///a", "http://-/a", "https://example.com\\a", "https://10.0.0.1/a", "https://ex.org/a.php;",
          "https://ex.org/a;", "https://ex.org/a;b", "https://ex.org/a\xa0", "https://ex.org/a\u2028",
          "https://ex.org/a\x1c", "https://ex.org/a\x85", "https://ex.org/a\u3000", "\xa0https://ex.org/a",
          "https://ex.org/\u3000a", "https://ex.org/a\x01"]


def test_the_quick_way_gives_what_the_general_way_gives():
    """Every address the quick path takes comes out as splitting it would make it: tricky ones, and every link
    of the shared corpus."""
    import re

    from tests.conftest import CORPUS
    from veille.collect.normalize import canonical_parts

    found = {m.decode("utf-8", "replace") for path in CORPUS.rglob("*") if path.is_file()
             for m in re.findall(rb"https?://[^\s<>\"']+", path.read_bytes())}
    assert len(found) > 1000 or not CORPUS.is_dir()
    for url in [*TRICKY, *sorted(found)]:
        assert canonical_url(url) == canonical_parts(url.strip()), url


def test_an_absolute_link_is_taken_as_it_is_and_a_relative_one_joined():
    """The feed connector leaves urljoin out for an absolute link: the same address either way."""
    from urllib.parse import urljoin

    from veille.collect.connectors.feed import _link

    for base in ("https://feeds.example.org/rss/all.xml", "http://example.net/"):
        for link in [*TRICKY, "/relative/page", "page.html", "//cdn.example.com/x", "?page=2"]:
            assert _link(link, base) == canonical_url(urljoin(base, link)), (base, link)
