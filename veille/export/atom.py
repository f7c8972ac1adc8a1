"""Items as an Atom feed (RFC 4287), so a member can follow any filtered view in a feed reader (pure).

Built with lxml (escaping and encoding are its job); feedgen drops the `rel` of entry links.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from lxml import etree

from veille import __version__
from veille.cells import xml_safe
from veille.export.ics import tender_lines
from veille.i18n import gettext_for
from veille.models import Item

ATOM = "http://www.w3.org/2005/Atom"


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _add(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _strip_controls(text: str) -> str:
    """XML 1.0 refuses most control characters and U+FFFE/U+FFFF: drop them rather than fail the whole feed."""
    return xml_safe(text)


def _entry(feed: etree._Element, item: Item, page: str, now: datetime, lang: str, zone: tzinfo) -> None:
    """Add the item's entry: its page on the site as id, the original as link, the summary with tender details."""
    entry = _add(feed, "entry")
    when = item.published_at or item.collected_at or now
    _add(entry, "id", page)
    _add(entry, "title", _strip_controls(item.title))
    _add(entry, "updated", _stamp(item.updated_at or when))
    _add(entry, "published", _stamp(when))
    _add(_add(entry, "author"), "name", _strip_controls(item.source))
    _add(entry, "link", href=item.url or page, rel="alternate")
    if item.url:  # the original, and the item's page on the site (topics, reasons, history)
        _add(entry, "link", href=page, rel="related", type="text/html")
    for term in (item.kind, *sorted(item.topics)):
        _add(entry, "category", term=term)
    lines = ([item.summary] if item.summary else []) + tender_lines(item, deadline=True, lang=lang, zone=zone)
    if item.topics:
        _ = gettext_for(lang)
        lines.append(_("Topics: {topics}").format(topics=", ".join(sorted(item.topics))))
    if lines:
        _add(entry, "summary", _strip_controls("\n".join(lines)), type="text")


def to_atom(items: Sequence[Item], *, title: str, feed_url: str, page_url: str, item_url: str,
            now: datetime | None = None, self_url: str | None = None, lang: str = "en", zone: tzinfo = UTC) -> bytes:
    """Return the feed's bytes, newest first; `item_url` has `{id}` for each entry's page on the site.
    `feed_url` is the feed's id, `self_url` (default: `feed_url`) the address its reader fetches it from."""
    now = now or datetime.now(UTC)
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _add(feed, "id", feed_url)
    _add(feed, "title", _strip_controls(title))
    stamps = [s for s in (i.updated_at or i.published_at or i.collected_at for i in items) if s]
    _add(feed, "updated", _stamp(max(stamps, default=now)))
    _add(feed, "link", href=self_url or feed_url, rel="self", type="application/atom+xml")
    _add(feed, "link", href=page_url, rel="alternate", type="text/html")
    _add(feed, "generator", "veille", version=__version__)
    for item in items:
        _entry(feed, item, item_url.format(id=item.id), now, lang, zone)
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True))
