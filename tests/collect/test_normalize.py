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
