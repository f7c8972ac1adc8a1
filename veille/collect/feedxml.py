"""The fast path of the feed connector: well-formed RSS 2.0, RSS 1.0 and Atom 1.0 read with lxml.

feedparser reads anything that looks like a feed, through a SAX handler in Python: it is the slow part of a
collect. Most feeds are well formed and plain, and lxml reads those many times faster. `read` gives the same
raw fields feedparser would (title, link, id, summary, dates, languages: the feed connector makes items of them
the same way), and declines (returns None) whenever it could disagree with feedparser: XML that is not well
formed or has a DOCTYPE, an encoding the HTTP header contradicts, `xml:base`, a field given twice in one entry
(which one feedparser keeps depends on their order), markup inside a field (XHTML content), base64 content, a
language element inside an entry, no entry at all. The feed connector then parses the payload with
feedparser; `tests/collect/test_feedxml.py` compares both paths field by field on the shared corpus and on
broken feeds.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lxml import etree

ATOM = "http://www.w3.org/2005/atom"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
# namespaces feedparser reads as the feed's own elements (lower case: it matches them so)
_PLAIN = {"", "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/", "http://backend.userland.com/rss",
          "http://backend.userland.com/rss2", "http://blogs.law.harvard.edu/tech/rss", ATOM}
_DC = "http://purl.org/dc/elements/1.1/"
_DCTERMS = "http://purl.org/dc/terms/"
_CONTENT = "http://purl.org/rss/1.0/modules/content/"
_MEDIA = {"http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss"}
_ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
_XHTML = "http://www.w3.org/1999/xhtml"
DECLINE = "decline"
# (namespace, local name), both lower case -> the field feedparser fills with it in an entry
_FIELDS: dict[tuple[str, str], str] = {
    **{(ns, name): field for ns in _PLAIN for name, field in (
        ("title", "title"), ("link", "link"), ("description", "summary"), ("summary", "summary"),
        ("abstract", "summary"), ("content", "content"), ("body", "content"), ("fullitem", "content"),
        ("guid", "id"), ("id", "id"), ("pubdate", "published"), ("published", "published"), ("issued", "published"),
        ("updated", "updated"), ("modified", "updated"), ("created", "created"), ("source", "source"),
        ("image", DECLINE))},
    (_DC, "title"): "title", (_DC, "description"): "summary", (_DC, "date"): "updated",
    (_DCTERMS, "created"): "created", (_DCTERMS, "issued"): "published", (_DCTERMS, "modified"): "updated",
    (_CONTENT, "encoded"): "content", (_ITUNES, "summary"): "summary", (_XHTML, "body"): DECLINE,
    **{(ns, name): field for ns in _MEDIA for name, field in (("title", "media-title"), ("description", "summary"))},
}
# an entry may give these more than once: feedparser's choice among them is reproduced
_REPEATABLE = {"title", "media-title", "link", "content", "source"}
_RDF_ITEMS = {("http://purl.org/rss/1.0/", "item"), ("http://my.netscape.com/rdf/simple/0.9/", "item")}
_LANGUAGE = {*((ns, "language") for ns in _PLAIN), (_DC, "language")}
_TEXT_TYPES = {None, "text", "html", "text/plain", "text/html", "plain"}
_HTML_TYPES = {"text/html", "application/xhtml+xml", "html", "xhtml"}
_CP1252 = {c: bytes([c]).decode("cp1252") for c in range(0x80, 0xA0) if c not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
_C1 = re.compile("[\x80-\x9f]")  # C1 controls: what _CP1252 maps
_URI_FIXER = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ]\d{2}:\d{2})")  # extended form: the one both parsers read alike
_REFERENCE = re.compile(r"&([A-Za-z0-9_]+);")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
                          remove_pis=True)
_tags: dict[str, tuple[str, str] | None] = {}


class Declined(Exception):
    """The payload is one feedparser may read otherwise: the feed connector hands it over to feedparser."""


@dataclass
class Entry:
    """One entry's raw fields, as feedparser gives them (texts may hold HTML)."""

    title: str | None
    link: str | None
    id: str | None
    summary: str | None
    content: str | None
    lang: str | None  # the entry's own xml:lang (on its title, else content, else summary)
    published: datetime | None
    updated: datetime | None
    created: datetime | None
    published_text: str | None  # the dates as written, when no parser of the standard library reads them
    updated_text: str | None
    created_text: str | None


@dataclass
class Feed:
    lang: str | None
    entries: list[Entry]


def read(content: bytes, content_type: str = "") -> Feed | None:
    """The feed's entries, or None when feedparser should read this payload (see the module's doc)."""
    try:
        return _read(content, content_type)
    except (etree.XMLSyntaxError, Declined, ValueError, LookupError):
        return None


def _read(content: bytes, content_type: str) -> Feed | None:
    root = etree.fromstring(content, _PARSER)
    tree = root.getroottree()
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None:
        raise Declined("DOCTYPE")  # entities a DTD declares: feedparser reads them its own way
    encoding = codecs.lookup(info.encoding or "utf-8").name
    _check_charset(content, content_type, encoding)
    if root.tag == RDF:
        entries = [e for e in root if isinstance(e.tag, str) and _tag(e.tag) in _RDF_ITEMS]
        feed_scope = [c for e in root if e not in entries for c in ([e, *e] if _is(e, "channel") else [e])]
    elif _is(root, "rss"):
        channels = [e for e in root if _is(e, "channel")]
        if len(channels) != 1:
            raise Declined("not one channel")
        entries = [e for e in channels[0] if _is(e, "item")]
        feed_scope = [e for e in channels[0] if e not in entries]
        if sum(1 for _ in root.iter("item", "{*}item")) != len(entries):
            raise Declined("items outside the channel, or nested")
    elif _tag(root.tag) == (ATOM, "feed"):
        entries = [e for e in root if isinstance(e.tag, str) and _tag(e.tag) == (ATOM, "entry")]
        feed_scope = [e for e in root if e not in entries]
    else:
        return None
    if not entries:
        return None
    for element in root.iter():
        if element.get(_XML_BASE) is not None or element.get("base") is not None:
            raise Declined("xml:base")
    utf8 = encoding == "utf-8"
    return Feed(_feed_lang(root, feed_scope, utf8), [_entry(e, utf8) for e in entries])


def _check_charset(content: bytes, content_type: str, encoding: str) -> None:
    """Decline when the HTTP header's charset is not the document's, or text/* gives none for non-ASCII bytes
    (feedparser then follows RFC 3023, which may read the bytes otherwise)."""
    mime, _, params = content_type.partition(";")
    charset = next((p.split("=", 1)[1].strip().strip("\"'") for p in params.split(";")
                    if p.strip().lower().startswith("charset=")), None)
    if charset:
        if codecs.lookup(charset).name != encoding:
            raise Declined("charset")
    elif mime.strip().lower().startswith("text/") and not content.isascii():
        raise Declined("text/* without charset")


def _is(element: etree._Element, name: str) -> bool:
    """Whether `element` is the feed's own element `name` (no namespace, or one of RSS's)."""
    if not isinstance(element.tag, str):
        return False
    namespace, local = _tag(element.tag)  # type: ignore[misc]
    return local == name and namespace in _PLAIN


def _tag(tag: str) -> tuple[str, str] | None:
    """(namespace, local name) in lower case, cached."""
    found = _tags.get(tag, ())
    if found == ():
        namespace, _, local = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
        found = _tags[tag] = (namespace.lower(), local.lower())
    return found  # type: ignore[return-value]


def _text(element: etree._Element, utf8: bool) -> str:
    """The element's text as feedparser gives it: stripped, C1 controls read as Windows-1252, and UTF-8 read as
    Latin-1 mended in a UTF-8 document."""
    if len(element):
        raise Declined("markup inside a field")
    text = (element.text or "").strip()
    if text.isascii():  # most fields: nothing to mend
        return text
    if _C1.search(text):
        text = text.translate(_CP1252)
    if utf8:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            text = text.encode("iso-8859-1").decode("utf-8")
    return text


def _lang_of(element: etree._Element) -> str | None:
    """The xml:lang (or lang) in scope of `element`; an empty one unsets it."""
    node: etree._Element | None = element
    while node is not None:
        value = node.get(_XML_LANG)
        if value is None:
            value = node.get("lang")
        if value is not None:
            return value.replace("_", "-") or None
        node = node.getparent()
    return None


def _feed_lang(root: etree._Element, scope: list[etree._Element], utf8: bool) -> str | None:
    """The feed's language: its last language element, else the xml:lang of its root."""
    lang = root.get(_XML_LANG) or root.get("lang")
    for element in scope:
        if isinstance(element.tag, str) and _tag(element.tag) in _LANGUAGE:
            lang = _text(element, utf8) or lang
    return lang.replace("_", "-") if lang else None


def _uri(value: str) -> str:
    """`value` without the slashes feedparser drops after its scheme's `://` (when a slash follows it)."""
    at = value.find("://")
    if at < 0 or not value.startswith("/", at + 3):
        return value
    return _URI_FIXER.sub(r"\1\3", value)


def _entry(entry: etree._Element, utf8: bool) -> Entry:
    found: dict[str, list[etree._Element]] = {}
    for element in entry.iterdescendants():
        if not isinstance(element.tag, str):
            continue
        field = _FIELDS.get(_tag(element.tag))  # type: ignore[arg-type]
        if field is None:
            continue
        if field == DECLINE:
            raise Declined(f"{element.tag} in an entry")
        found.setdefault(field, []).append(element)
    for field, elements in found.items():
        if len(elements) > 1 and field not in _REPEATABLE:
            raise Declined(f"{field} given twice")
    for source in found.get("source", []):
        if len(source) or len(found.get("title", [])) + len(found.get("media-title", [])) > 1:
            raise Declined("an entry's source with fields of its own, or beside two titles")
    for field in ("title", "media-title", "summary", "content"):
        for element in found.get(field, []):
            kind = element.get("type")
            if (kind.lower() if kind else None) not in _TEXT_TYPES or element.get("mode") is not None:
                raise Declined("content that is not text or HTML")
    title_element = _title(entry, found)
    title = None if title_element is None else _text(title_element, utf8)
    summary = _one(found, "summary", utf8)
    content = _one(found, "content", utf8)
    ident = entry.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")  # an RSS 1.0 item's
    permalink = False
    if "id" in found:
        element = found["id"][0]
        ident = _text(element, utf8)
        permalink = element.get("isPermaLink", element.get("ispermalink", "true")) == "true"
        if permalink and ident:
            ident = _uri(ident)
    link = _link(found.get("link", []), utf8)
    if link is None and permalink:
        link = ident
    lang = next((lang for element in (title_element, *found.get("content", [])[:1], *found.get("summary", []))
                 if element is not None for lang in [_lang_of(element)] if lang), None)
    published, published_text = _date(found, "published", utf8)
    updated, updated_text = _date(found, "updated", utf8)
    created, created_text = _date(found, "created", utf8)
    return Entry(title, link, ident, summary, content, lang,
                 published, updated, created, published_text, updated_text, created_text)


def _title(entry: etree._Element, found: dict[str, list[etree._Element]]) -> etree._Element | None:
    """The title element feedparser keeps: the first one not empty, unless a later one sits higher in the entry
    (a media title never blocks a later one); each replaces the one kept only at the same depth or higher."""
    titles = sorted([*found.get("title", []), *found.get("media-title", [])], key=lambda e: _position(entry, e))
    kept: etree._Element | None = None
    kept_depth = blocking = -1
    for element in titles:
        depth = _depth(entry, element)
        if -1 < blocking <= depth:
            continue
        if kept is None or depth <= kept_depth:
            kept, kept_depth = element, depth
        if (element.text or "").strip() and element not in found.get("media-title", []):
            blocking = depth
    return kept


def _depth(entry: etree._Element, element: etree._Element) -> int:
    depth = 0
    node: etree._Element | None = element
    while node is not None and node is not entry:
        depth += 1
        node = node.getparent()
    return depth


def _position(entry: etree._Element, element: etree._Element) -> int:
    return next(n for n, e in enumerate(entry.iterdescendants()) if e is element)


def _one(found: dict[str, list[etree._Element]], field: str, utf8: bool) -> str | None:
    elements = found.get(field)
    return _text(elements[0], utf8) if elements else None


def _link(elements: list[etree._Element], utf8: bool) -> str | None:
    """An RSS link's text, else the last alternate HTML link of an Atom entry (as feedparser keeps them)."""
    texts = [e for e in elements if e.get("href") is None and e.get("url") is None and e.get("uri") is None]
    hrefs = [e for e in elements if e not in texts]
    if (texts and hrefs) or len(texts) > 1:
        raise Declined("links of two kinds")
    if texts:
        text = _text(texts[0], utf8).replace("&amp;", "&")
        return _uri(_REFERENCE.sub(r"&\1", text) if "&" in text else text) if text else text
    link = None
    for element in hrefs:
        href = element.get("href") or element.get("url") or element.get("uri") or ""
        rel = element.get("rel") or "alternate"
        kind = (element.get("type") or ("application/atom+xml" if rel == "self" else "text/html")).lower()
        if rel == "alternate" and kind in _HTML_TYPES:
            link = _uri(href.strip())
    return link


def _date(found: dict[str, list[etree._Element]], field: str, utf8: bool) -> tuple[datetime | None, str | None]:
    """The date of `field` read by the standard library (RFC 822, then ISO 8601's extended form), to the second
    as feedparser gives it. A date it cannot read is declined: feedparser reads more forms than it does (and
    otherwise, as "20261109T080000Z"), the feed connector's own parser reads what feedparser does not."""
    text = _one(found, field, utf8)
    if not text:
        return None, None
    value = _standard_date(text)
    if value is None:
        raise Declined(f"a date the standard library does not read: {text!r}")
    return value, None


def _standard_date(text: str) -> datetime | None:
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        if not _ISO.match(text):
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)
