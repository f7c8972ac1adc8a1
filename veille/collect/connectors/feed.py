"""RSS 0.9x/1.0/2.0 and Atom feeds, through feedparser (which survives most real-world defects)."""

from __future__ import annotations

import calendar
import gzip
import io
import xml.sax
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from veille.collect.connectors import Connector, NoOptions, Skipped
from veille.collect.normalize import TITLE_CAP, canonical_url, item_id, parse_date, plain_text
from veille.errors import TerminalSourceError
from veille.models import Item, Source

MAX_UNCOMPRESSED = 20 * 1024 * 1024


def _decompress(content: bytes) -> bytes:
    """Gunzip a saved .gz payload (HTTP bodies arrive already decoded)."""
    if content[:2] != b"\x1f\x8b":
        return content
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(content)) as f:
            data = f.read(MAX_UNCOMPRESSED + 1)
    except (OSError, EOFError) as exc:
        raise TerminalSourceError(f"corrupt gzip payload: {exc}") from exc
    if len(data) > MAX_UNCOMPRESSED:
        raise TerminalSourceError("gzip payload expands beyond the size cap")
    return data


def _time(entry: Any, *keys: str) -> datetime | None:
    """Return the first of the entry's `*_parsed` times, else our own reading of the raw text."""
    # dict.get: feedparser's own get() maps a missing `updated` onto `published` with a warning
    for key in keys:
        value = dict.get(entry, key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    for key in keys:  # feedparser knows English dates only: "Seg, 24 Set 2018" is left to us
        value = parse_date(dict.get(entry, key.removesuffix("_parsed")))
        if value:
            return value
    return None


def _lang(value: str | None, fallback: str | None) -> str | None:
    if value and len(value) >= 2 and value[:2].isalpha():
        return value[:2].lower()
    return fallback


def _link(link: str | None, url: str) -> str | None:
    """Return the entry's link made absolute against the feed's URL, canonical; None when unusable."""
    try:
        return canonical_url(urljoin(url, link) if url and link else link)
    except ValueError:
        return None


def _entry_lang(entry: Any) -> str | None:
    """Return the entry's own `xml:lang`: on its title (inherited from the entry), else its content or summary."""
    details = [entry.get("title_detail"), *(entry.get("content") or []), entry.get("summary_detail")]
    return next((d["language"] for d in details if d and d.get("language")), None)


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item | Skipped]:
    """Yield one item per feed entry (Skipped for one with neither title nor link); raise TerminalSourceError
    when the payload is not a usable feed.

    A feed with defects (bad encoding, illegal nesting) is read as far as feedparser can; a payload
    that gives no usable entry and is malformed or not a feed at all is an error, not an empty feed.
    """
    # Only what the server said: any header, even Content-Location, makes feedparser assume ISO-8859-1
    # for an undeclared encoding instead of trying UTF-8 and then detecting the charset.
    headers = {"content-type": content_type} if content_type else None
    import feedparser  # imported by the collect, not by `veille check`

    parsed = feedparser.parse(_decompress(content), response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    entries = list(_items(source, parsed, url))
    malformed = isinstance(parsed.get("bozo_exception"), xml.sax.SAXException)
    if not any(isinstance(e, Item) for e in entries) and (malformed or not parsed.version):
        reason = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise TerminalSourceError(f"not a readable RSS/Atom feed: {reason}")
    yield from entries


def _items(source: Source, parsed: Any, url: str) -> Iterator[Item | Skipped]:
    feed_lang = _lang(parsed.feed.get("language"), None)
    for entry in parsed.entries:
        link = _link(entry.get("link"), url)
        summary_html = entry.get("summary") or ""
        if not summary_html and entry.get("content"):
            summary_html = entry["content"][0].get("value", "")
        summary = plain_text(summary_html)
        title = plain_text(entry.get("title"), TITLE_CAP) or plain_text(summary, 120)
        if not title and not link:
            yield Skipped("neither title nor link")
            continue
        key = entry.get("id") or entry.get("guid") or link or title
        yield Item(
            id=item_id(source.name, str(key)),
            source=source.name,
            kind=source.kind,
            title=title or link or "",
            url=link,
            summary=summary,
            lang=source.lang or _lang(_entry_lang(entry), feed_lang),
            country=source.country,
            published_at=_time(entry, "published_parsed", "updated_parsed", "created_parsed"),
            updated_at=_time(entry, "updated_parsed"),
        )


CONNECTOR = Connector("feed", NoOptions, parse)
