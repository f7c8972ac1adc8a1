"""Turn raw entry fields into clean item fields: plain text, canonical URL, stable id, UTC dates."""

from __future__ import annotations

import hashlib
import re
import warnings
from datetime import UTC, datetime
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import lxml.html
from dateutil import parser as dateparser
from lxml import etree

SUMMARY_CAP = 1000
TITLE_CAP = 300
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl|igshid|yclid|xtor|at_medium|"
                       r"at_campaign|ns_source|ns_mchannel|ns_campaign|cmpid|wt\.mc_id)$", re.I)
_SPACE = re.compile(r"\s+")
_MARKUP = re.compile(r"<[a-zA-Z/!]|&[#a-zA-Z0-9]+;")


def plain_text(value: str | None, cap: int = SUMMARY_CAP) -> str:
    """Return `value` as whitespace-normalised plain text (markup removed), at most `cap` characters."""
    if not value:
        return ""
    if _MARKUP.search(value):
        value = _html_text(value)
    text = " ".join(value.split())  # whitespace runs made one space (what `\s+` matches), ends stripped
    if len(text) > cap:
        text = text[: cap - 1].rsplit(" ", 1)[0] + "…"
    return text


_DROPPED = ("script", "style", "noscript", "template", "iframe", "object")


def _html_text(value: str) -> str:
    """The text of an HTML fragment, scripts and styles dropped (lxml; BeautifulSoup if lxml gives up)."""
    try:
        root = lxml.html.fragment_fromstring(value, create_parent="div")
        for element in root.iter(*_DROPPED):
            element.drop_tree()
        return " ".join(root.itertext())
    except (etree.ParserError, ValueError):
        from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning  # rarely needed: imported then

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            soup = BeautifulSoup(value, "html.parser")
        for tag in soup(list(_DROPPED)):
            tag.decompose()
        return str(soup.get_text(" "))


# an address already canonical but for its path: lower-case scheme and host, no port, user, query, fragment,
# parameters (urlparse drops an empty ";") or whitespace of any script (\s without re.ASCII)
_CANONICAL = re.compile(r"(https?://[a-z0-9.-]+)(/[^?#;\s]*)?")


def canonical_url(url: str | None) -> str | None:
    """Return `url` with scheme and host lower-cased, no fragment, default port or tracking parameters."""
    if not url:
        return None
    url = url.strip()
    plain = _CANONICAL.fullmatch(url)
    if plain:  # most links: nothing to change but an empty path (what `canonical_parts` gives, quicker)
        return url if plain[2] else f"{url}/"
    return canonical_parts(url)


def joined_url(base: str | None, link: str | None) -> str | None:
    """`link` made absolute against `base` (when both are given), canonical. A link that is already canonical
    but for its path is its own: urljoin would give it back."""
    if not base or not link or _CANONICAL.fullmatch(link):
        return canonical_url(link)
    return canonical_url(urljoin(base, link))


def canonical_parts(url: str) -> str | None:
    """`canonical_url` of a stripped `url`, the general way: split, each part made canonical, joined."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError:
        return None
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    # drop tracking parameters but keep the others exactly as written (encoding included)
    kept = [pair for pair in parts.query.split("&") if pair and not _TRACKING.match(unquote(pair.split("=")[0]))]
    return urlunsplit((scheme, host, parts.path or "/", "&".join(kept), ""))


def item_id(source: str, key: str) -> str:
    """Return the stable id of an entry: a hash of its source name and its guid (or URL)."""
    return hashlib.sha256(f"{source}\x1f{key}".encode()).hexdigest()[:24]


def to_utc(value: datetime | None, zone: str | None = None) -> datetime | None:
    """Return `value` in UTC; a naive time is read in `zone` (the source's time zone), else UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone) if zone else UTC)
    return value.astimezone(UTC)


class _MultilingualDates(dateparser.parserinfo):
    """Month and weekday names in French, Portuguese and Spanish besides English."""

    MONTHS = [  # noqa: RUF012 - dateutil's own class-attribute API
        ("Jan", "January", "janvier", "janv", "janeiro", "enero", "ene"),
        ("Feb", "February", "février", "fevrier", "févr", "fevr", "fevereiro", "fev", "febrero"),
        ("Mar", "March", "mars", "março", "marco", "marzo"),
        ("Apr", "April", "avril", "avr", "abril", "abr"),
        ("May", "mai", "maio", "mayo"),
        ("Jun", "June", "juin", "junho", "junio"),
        ("Jul", "July", "juillet", "juil", "julho", "julio"),
        ("Aug", "August", "août", "aout", "agosto", "ago"),
        ("Sep", "Sept", "September", "septembre", "setembro", "set", "septiembre"),
        ("Oct", "October", "octobre", "outubro", "out", "octubre"),
        ("Nov", "November", "novembre", "novembro", "noviembre"),
        ("Dec", "December", "décembre", "decembre", "déc", "dezembro", "dez", "diciembre", "dic"),
    ]
    JUMP = [*dateparser.parserinfo.JUMP, "le", "du", "de", "del", "à", "h", "às", "as", "a", "las", "em", "el"]  # noqa: RUF012


_DATES = _MultilingualDates(dayfirst=True)
_WEEKDAY = re.compile(r"(?i)\b(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lun|mar|mer|jeu|ven|sam|dim|"
                      r"segunda|terça|terca|quarta|quinta|sexta|sábado|sabado|domingo|seg|ter|qua|qui|sex|sáb|sab|dom|"
                      r"lunes|martes|miércoles|miercoles|jueves|viernes|mié|mie|jue|vie)(?:-feira)?\.?(?=[\s,]|$),?")
_ORDINAL = re.compile(r"\b(\d{1,2})(?:er|º|°)(?=\s)")
_MONTH = "|".join(sorted((re.escape(n) for names in _DATES.MONTHS for n in names), key=len, reverse=True))
_CLOCK = r"(?:[\sT,]+(?:(?:à|a|at|às|as|a las|um)\s+)?\d{1,2}(?:\s*[:h]\s*\d{2}(?::\d{2})?|\s*h)" \
         r"(?:\s*(?:Z|[+-]\d{2}:?\d{2}|[A-Z]{2,4}))?)?"
# a whole day written inside a longer text ("Publié le 12/11/2026 à 10h"): the only part read then
_WRITTEN_DAY = re.compile(
    rf"(?i)(?<![\w/.-])(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|"
    rf"\d{{1,2}}\s+(?:de\s+)?(?:{_MONTH})\.?,?\s+(?:de\s+)?\d{{4}}|"
    rf"(?:{_MONTH})\.?\s+\d{{1,2}},?\s+\d{{4}})"
    rf"(?![\w/.-]){_CLOCK}")
_APART, _BPART = datetime(1901, 1, 1), datetime(1902, 2, 2)  # two defaults: a field they disagree on was not written


def _strict(text: str, default: datetime | None) -> datetime | None:
    """The time written in `text` by dateutil without fuzzy matching, None unless it gives a year, month and day."""
    try:
        a = dateparser.parse(text, parserinfo=_DATES, default=_APART)
        b = dateparser.parse(text, parserinfo=_DATES, default=_BPART)
        if a.date() != b.date():
            return None  # "3", "novembre 2026": the day, month or year would be made up
        return dateparser.parse(text, parserinfo=_DATES, default=default) if default else a
    except (ValueError, OverflowError):
        return None


def _parsed(text: str, default: datetime | None = None) -> datetime | None:
    """The time in `text`: ISO 8601, else a date dateutil reads from the whole text (weekday names and 'le', 'à'
    allowed), else a whole date written inside it; never one made up from stray numbers ('Lot 3', '2 lots')."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    cleaned = _SPACE.sub(" ", _ORDINAL.sub(r"\1", _WEEKDAY.sub(" ", text))).strip(" ,")
    found = _strict(cleaned, default)
    if found is None and (m := _WRITTEN_DAY.search(cleaned)):
        found = _strict(m.group(0).strip(), default)
    return found


def parse_date(text: str | None, zone: str | None = None) -> datetime | None:
    """Return the UTC time written in `text` (ISO, RFC 822, '12/11/2026', '12 novembre 2026'…), or None.

    A date needs its day, month and year written: 'Lot 3', 'phase 2', '45 000 EH' or 'novembre 2026' give None."""
    if not text or not text.strip():
        return None
    return to_utc(_parsed(text.strip()), zone)


def written_time(text: str | None, zone: str | None = None) -> tuple[datetime, bool] | None:
    """(the time written in `text`, aware: its own offset, else `zone`'s, else UTC; whether it gives a time of
    day) in the forms `parse_date` reads; a day alone ('12 novembre 2026') is that day at 00:00."""
    if not text or not text.strip():
        return None
    text = text.strip()
    midnight = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)  # dateutil's own default
    value = _parsed(text, midnight)
    if value is None:
        return None
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        timed = "T" in text or " " in text  # ISO: a day alone has neither
    except ValueError:  # dateutil: the hour comes from the default unless the text gives one
        timed = getattr(_parsed(text, midnight.replace(hour=13)), "hour", None) == value.hour
    aware = value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone) if zone else UTC)
    return (aware if timed else aware.replace(hour=0, minute=0, second=0, microsecond=0)), timed
