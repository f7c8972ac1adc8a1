"""RSS 0.9x/1.0/2.0 and Atom feeds: well-formed plain ones read by lxml (`feedxml`), the others by feedparser
(which survives most real-world defects); both give the same items."""

from __future__ import annotations

import calendar
import gzip
import io
import xml.sax
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from veille.collect import feedxml
from veille.collect.connectors import Connector, NoOptions, Skipped
from veille.collect.normalize import TITLE_CAP, item_id, joined_url, parse_date, plain_text
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


def _time(entry: Any, key: str) -> datetime | None:
    """The entry's `<key>_parsed` time read by feedparser, to the second."""
    value = dict.get(entry, f"{key}_parsed")  # dict.get: feedparser's own get() maps `updated` onto `published`
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC) if value else None


def _raw(entry: Any) -> feedxml.Entry:
    """A feedparser entry's fields, as the fast path gives them."""
    content = entry.get("content")
    texts = {key: None if _time(entry, key) else dict.get(entry, key) for key in ("published", "updated", "created")}
    return feedxml.Entry(
        title=entry.get("title"), link=entry.get("link"), id=entry.get("id") or entry.get("guid"),
        summary=entry.get("summary"), content=content[0].get("value", "") if content else None,
        lang=_entry_lang(entry), published=_time(entry, "published"), updated=_time(entry, "updated"),
        created=_time(entry, "created"), published_text=texts["published"], updated_text=texts["updated"],
        created_text=texts["created"])


def _lang(value: str | None, fallback: str | None) -> str | None:
    if value and len(value) >= 2 and value[:2].isalpha():
        return value[:2].lower()
    return fallback


def _link(link: str | None, url: str) -> str | None:
    """Return the entry's link made absolute against the feed's URL, canonical; None when unusable."""
    try:
        return joined_url(url, link)
    except ValueError:
        return None


def _entry_lang(entry: Any) -> str | None:
    """Return the entry's own `xml:lang`: on its title (inherited from the entry), else its content or summary."""
    details = [entry.get("title_detail"), *(entry.get("content") or []), entry.get("summary_detail")]
    return next((d["language"] for d in details if d and d.get("language")), None)


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item | Skipped]:
    """Yield one item per feed entry (Skipped for one with neither title nor link); raise TerminalSourceError
    when the payload is not a usable feed.

    A well-formed plain feed is read by lxml (`feedxml.read`); any other (bad encoding, illegal nesting, a
    field given twice…) by feedparser, read as far as it can; a payload that gives no usable entry and is
    malformed or not a feed at all is an error, not an empty feed.
    """
    data = _decompress(content)
    fast = feedxml.read(data, content_type)
    if fast is not None:
        yield from _items(source, fast.entries, fast.lang, url)
        return
    # Only what the server said: any header, even Content-Location, makes feedparser assume ISO-8859-1
    # for an undeclared encoding instead of trying UTF-8 and then detecting the charset.
    headers = {"content-type": content_type} if content_type else None
    import feedparser  # imported by the collect, not by `veille check`

    parsed = feedparser.parse(data, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    entries = list(_items(source, [_raw(e) for e in parsed.entries], parsed.feed.get("language"), url))
    malformed = isinstance(parsed.get("bozo_exception"), xml.sax.SAXException)
    if not any(isinstance(e, Item) for e in entries) and (malformed or not parsed.version):
        reason = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise TerminalSourceError(f"not a readable RSS/Atom feed: {reason}")
    yield from entries


def _date(value: datetime | None, text: str | None) -> datetime | None:
    return value or parse_date(text)


def _items(source: Source, entries: list[feedxml.Entry], feed_lang: str | None, url: str) -> Iterator[Item | Skipped]:
    feed_lang = _lang(feed_lang, None)
    for entry in entries:
        link = _link(entry.link, url)
        summary = plain_text(entry.summary or entry.content or "")
        title = plain_text(entry.title, TITLE_CAP) or plain_text(summary, 120)
        if not title and not link:
            yield Skipped("neither title nor link")
            continue
        key = entry.id or link or title
        # feedparser knows English dates only: "Seg, 24 Set 2018" is read by our own parser
        published = entry.published or entry.updated or entry.created or parse_date(entry.published_text) or \
            parse_date(entry.updated_text) or parse_date(entry.created_text)
        yield Item(
            id=item_id(source.name, str(key)),
            source=source.name,
            kind=source.kind,
            title=title or link or "",
            url=link,
            summary=summary,
            lang=source.lang or _lang(entry.lang, feed_lang),
            country=source.country,
            published_at=published,
            updated_at=_date(entry.updated, entry.updated_text),
        )


CONNECTOR = Connector("feed", NoOptions, parse)
