"""Tender fields shared by the procurement connectors: notice types, CPV codes, amounts, languages, dates."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, TypedDict

from veille.collect.countries import language_alpha3
from veille.collect.money import money
from veille.collect.normalize import written_time
from veille.models import Due, day_end
from veille.zones import zone_name, zone_named

_CPV = re.compile(r"^\s*(\d{8})(?:-\d)?\s*$")
_TED_NUMBER = re.compile(r"^\s*0*(\d{1,8})-(\d{4})\s*$")
_TED_OJS = re.compile(r"(\d{4})/S\s*\d+-0*(\d+)")
_DATE = re.compile(r"^\s*(\d{4})-?(\d{2})-?(\d{2})(?:[T ]([\d:.]+))?\s*(Z|[+-]\d{2}:?\d{2})?\s*$")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$")


def notice_type(code: str | None) -> str | None:
    """Normalise a source's notice type (TED/eForms codes, BOAMP natures, World Bank and CanadaBuys labels)."""
    if not code:
        return None
    c = code.strip().lower().replace("_", "-")
    if c.startswith(("pin", "pri", "prior", "avis-prealable", "pre-information", "general procurement",
                     "aviso previo")) or "pré-information" in c or "preinformation" in c:
        return "prior-information"
    if c.startswith(("can", "veat", "compl", "attribution", "award", "contract award", "resultado", "homolog")) \
            or "award" in c or "attribution" in c:
        return "award"
    if c.startswith(("corr", "rectif", "modif", "mod", "change", "amendment", "erratum")) or "amend" in c:
        return "modification"
    if c.startswith(("cn", "appel-offre", "qu-sy", "subco", "invitation", "request for", "contract notice",
                     "tender notice", "rfp", "rft", "rfq", "rfso", "specific procurement", "aviso de licita",
                     "edital", "divulgada")) or "avis de marché" in c:
        return "contract-notice"
    return "other"


# The eForms notice types by the list their code belongs to (the `listName` of cbc:NoticeTypeCode): prior
# information (planning), calls (competition: a PIN used as a call for competition, `pin-cfc-*`, is a call),
# awards (result, VEAT's direct award prearranged), contract modifications during their term (cont-modif).
TYPE_LISTS = {"planning": "prior-information", "consultation": "prior-information",  # E1: pre-market consultation
              "competition": "contract-notice", "result": "award", "dir-awa-pre": "award",
              "cont-modif": "modification", "completion": "award"}
TYPE_CODES = {"pmc": "prior-information", "can-modif": "modification", "veat": "award", "compl": "award",
              "qu-sy": "contract-notice", "subco": "contract-notice"}
def eforms_notice_type(code: str | None, list_name: str | None = None) -> str | None:
    """The notice type of an eForms notice type code (TED's API `notice-type` too), by its list when given."""
    code = (code or "").strip().lower()
    if code.startswith("pin-cfc") or code in TYPE_CODES:
        return TYPE_CODES.get(code, "contract-notice")
    return TYPE_LISTS.get((list_name or "").lower()) or notice_type(code)


def ted_number(value: str | None) -> str | None:
    """A TED publication number as the TED API writes it, whatever format it comes in: '091489-2019' (R2.0.9's
    DOC_ID, zero-padded), '91489-2019' (the API, eForms) and the OJ S reference '2019/S 035-091489' all give
    '91489-2019', so the notices of one tender meet; None when `value` is none of these."""
    if not value:
        return None
    if m := _TED_NUMBER.match(value):
        return f"{int(m.group(1))}-{m.group(2)}"
    if m := _TED_OJS.search(value):
        return f"{int(m.group(2))}-{m.group(1)}"
    return None


def cpv_codes(codes: Iterable[object]) -> list[str]:
    """Return the distinct 8-digit CPV codes, in order, without check digits ('45252127-4' → '45252127')."""
    seen: dict[str, None] = {}
    for code in codes:
        m = _CPV.match(str(code))
        if m:
            seen.setdefault(m.group(1), None)
    return list(seen)


def amount(value: object) -> float | None:
    """Return the number of 1200000, '1 200 000,50 €', '1,2 M€' or ['500000'] (see `money`); None when absent
    or unsure."""
    return tender_value(value)[0]


def summed(values: Iterable[tuple[object, str | None]]) -> tuple[float, str | None] | None:
    """The sum of (amount as written, currency) pairs, and their currency; None when there are none, one is
    unreadable or not positive, or their currencies differ (never a partial or mixed sum)."""
    read = [(amount(value), currency) for value, currency in values]
    if not read or any(a is None or a <= 0 for a, _ in read) or len({c for _, c in read}) > 1:
        return None
    return sum(a for a, _ in read if a is not None), read[0][1]


def tender_value(value: object, currency: str | None = None) -> tuple[float | None, str | None]:
    """Return (amount, currency) of a source's value field: numbers as given with `currency`, text read by
    `money` (its own currency first, `currency` to settle a shared symbol or when it names none)."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None or isinstance(value, bool):
        return None, None
    if isinstance(value, int | float):
        return float(value), currency
    return money(value, currency)


def pick_text(texts: Mapping[str, Any] | None, prefer: Sequence[str]) -> str | None:
    """Pick a text from a language map (`{"fra": …, "eng": …}`, keys any case): preferred languages first.

    Values may be strings or lists of strings (TED buyer names); the first non-empty one wins.
    """
    if not texts:
        return None
    by_lang = {k.lower(): v for k, v in texts.items()}
    for lang in [*prefer, *by_lang]:
        value = by_lang.get(lang.lower())
        if isinstance(value, list):
            value = next((v for v in value if v), None)
        if value:
            return str(value)
    return None


def preferred_languages(source_lang: str | None, official: Iterable[str] = ()) -> list[str]:
    """Return 3-letter languages in order: the source's, French, English, then the notice's own."""
    order = []
    if source_lang:
        order.append(language_alpha3(source_lang) or source_lang)
    order += ["fra", "eng", *(o.lower() for o in official)]
    return list(dict.fromkeys(order))


def _offset(text: str | None) -> timezone | None:
    if not text:
        return None
    if text == "Z":
        return UTC
    sign = 1 if text[0] == "+" else -1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _written(date_text: str | None, time_text: str | None = None,
             zone: str | None = None) -> tuple[datetime, bool, str] | None:
    """(the local time, whether a time of day was given, the name of its zone) from a date and an optional
    separate time; the zone is the offset written, else `zone`, else UTC."""
    if not date_text:
        return None
    m = _DATE.match(str(date_text))
    if not m:
        return None
    year, month, day, clock, date_offset = m.groups()
    hour = minute = second = 0
    offset = _offset(date_offset)
    if clock:
        parts = clock.split(".")[0].split(":")
        hour, minute = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
        second = int(parts[2]) if len(parts) > 2 else 0
    timed = bool(clock)
    if time_text:
        t = _TIME.match(str(time_text))
        if t:
            hour, minute, second = int(t.group(1)), int(t.group(2)), int(t.group(3) or 0)
            offset = _offset(t.group(4)) or offset
            timed = True
    tz = offset or zone_named(zone)
    try:
        return datetime(int(year), int(month), int(day), hour, minute, second, tzinfo=tz), timed, zone_name(tz)
    except ValueError:
        return None


def deadline(date_text: str | None, time_text: str | None = None, zone: str | None = None) -> datetime | None:
    """Return a UTC time from a date and an optional separate time, each possibly with its own offset.

    '2026-09-18+02:00' + '23:59:00+02:00', '20200903' + '14:00' (local time of `zone`),
    '2026-08-13T23:59:00' (local), '2015-04-20T11:00:00+00:00'. A date without time means 00:00.
    """
    written = _written(date_text, time_text, zone)
    return written[0].astimezone(UTC) if written else None


class Deadline(TypedDict):
    """A notice's deadlines as the item's fields (see `Item.deadline_at` and the fields beside it)."""

    deadline_at: datetime | None
    deadline_date_only: bool
    deadline_zone: str | None
    deadline_kind: str | None
    deadlines: list[Due]


NO_DEADLINE: Deadline = {"deadline_at": None, "deadline_date_only": False, "deadline_zone": None,
                         "deadline_kind": None, "deadlines": []}


def _fields(due: Due) -> Deadline:
    return {"deadline_at": due.at, "deadline_date_only": due.date_only, "deadline_zone": due.zone,
            "deadline_kind": due.kind, "deadlines": [due]}


def timed_deadline(at: datetime, kind: str = "tender") -> Deadline:
    """A deadline given with its time of day, as the item's fields."""
    return _fields(Due(kind, at.astimezone(UTC)))


def day_deadline(day: date, zone: str | None = None, kind: str = "tender") -> Deadline:
    """A deadline given as a day: open until the end of that day (23:59:59) in `zone`, the buyer's (an IANA
    name or an offset; UTC when unknown), flagged as given as a day."""
    name = zone_name(zone_named(zone))
    return _fields(Due(kind, day_end(day, zone_named(name)), True, name))


def _deadline_of(written: tuple[datetime, bool, str] | None, kind: str) -> Deadline:
    if written is None:
        return NO_DEADLINE
    local, timed, zone = written
    return timed_deadline(local, kind) if timed else day_deadline(local.date(), zone, kind)


def tender_deadline(date_text: str | None, time_text: str | None = None, zone: str | None = None,
                    kind: str = "tender") -> Deadline:
    """The deadline fields from the forms `deadline` reads; a day without a time closes at its end in the zone
    written, else in `zone` (the buyer's). `kind` says what is due (see `Due`)."""
    return _deadline_of(_written(date_text, time_text, zone), kind)


def written_deadline(text: str | None, zone: str | None = None, kind: str = "tender") -> Deadline:
    """The deadline fields from text in any form `parse_date` reads ('12 novembre 2026', '12/11/2026 14h')."""
    found = tender_deadline(text, zone=zone, kind=kind)
    if found["deadline_at"]:
        return found
    written = written_time(text, zone)
    return _deadline_of((written[0], written[1], zone_name(written[0].tzinfo or UTC)) if written else None, kind)


def earliest_deadline(values: Iterable[Deadline]) -> Deadline:
    """The deadline that passes first (of a tender's lots, of its requests to participate and its offers),
    with every distinct deadline kept in `deadlines`, in time order."""
    dues = sorted({due for value in values for due in value["deadlines"]}, key=lambda d: (d.at, d.kind))
    if not dues:
        return NO_DEADLINE
    return {**_fields(dues[0]), "deadlines": dues}
