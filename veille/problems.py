"""Configuration problems said in plain words: pydantic's errors rewritten for people, with the accepted values
and a "did you mean …" for near misses."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

# what a field holds, said to someone who wrote the wrong type of value
HINTS = {
    "every": "a duration such as 30m, 6h or 1d",
    "send_at": "a weekly time such as 'mon 07:30'",
    "min_score": "a number such as 1.5",
    "site_token": "a whole number (0 closes the site to this member)",
    "url": "an http(s) address such as https://example.org/feed.xml",
    "name": "one line of text",
    "id": "lower-case letters, digits, '-' or '_', such as 'polymem'",
    "emails": "a list of addresses such as [veille@example.org]",
    "recipients": "a list of addresses such as [veille@example.org]",
    "admins": "a list of addresses such as [admin@example.org]",
    "topics": "a list of topic IDs such as [membranes, sensors]",
    "keywords": "a list of phrases such as [ultrafiltration, 'fibres creuses']",
    "exclude": "a list of phrases such as [géomembrane]",
    "cpv": "a list of CPV codes or prefixes such as [42912, 38421100]",
    "regions": "a list of regions such as [FR, EU, GULF]",
    "kinds": "a list of kinds such as [tender, news]",
    "options": "a mapping of the connector's options (key: value)",
    "subject": "one line of text",
}
TYPES = {  # pydantic's error type → what the value must be, when the field has no hint
    "bool_parsing": "true or false", "bool_type": "true or false",
    "float_parsing": "a number such as 1.5", "float_type": "a number such as 1.5",
    "int_parsing": "a whole number", "int_type": "a whole number", "int_from_float": "a whole number",
    "string_type": "text", "list_type": "a list such as [a, b]", "tuple_type": "a list such as [a, b]",
    "dict_type": "a mapping (key: value)", "model_type": "a mapping (key: value)",
}


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """" (did you mean 'membranes'?)" when `word` is close to one of `choices`, else ""."""
    if not isinstance(word, str) or not word:
        return ""
    by_folded = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean {by_folded[close[0]]!r}?)" if close else ""


def _field(loc: tuple[Any, ...]) -> str:
    """The name of the field an error is about: its last key (not a list position)."""
    return next((str(part) for part in reversed(loc) if isinstance(part, str)), "value")


def _listed(values: Iterable[str]) -> str:
    return ", ".join(values)


def plain(error: Mapping[str, Any], keys: Iterable[str]) -> str:
    """One pydantic error as a sentence: what is wrong, what is accepted, what was probably meant. `keys` are the
    valid keys of the mapping the error is in."""
    kind, loc, given = error["type"], tuple(error["loc"]), error.get("input")
    field = _field(loc)
    if kind == "extra_forbidden":
        keys = list(keys)
        return f"unknown key {loc[-1]!r}{did_you_mean(loc[-1], keys)}; valid keys: {_listed(keys)}"
    if kind == "missing":
        hint = HINTS.get(field)
        return f"{field} is required" + (f": {hint}" if hint else "")
    if kind == "literal_error":
        accepted = [v.strip().strip("'") for v in str(error["ctx"]["expected"]).replace(" or ", ", ").split(",")]
        return f"{given!r} is not accepted{did_you_mean(given, accepted)}; accepted: {_listed(accepted)}"
    if kind == "string_pattern_mismatch":
        slug = re.sub(r"[^a-z0-9_-]+", "-", str(given).strip().lower()).strip("-")
        hint = f" (did you mean {slug!r}?)" if field == "id" and slug and slug != given else ""
        return f"{given!r} is not valid{hint}: {field} must be {HINTS.get(field, 'written as documented')}"
    if kind in ("too_short", "string_too_short"):
        return f"{field} must not be empty"
    if kind in ("greater_than_equal", "greater_than"):
        bound = error["ctx"].get("ge", error["ctx"].get("gt"))
        return f"{field} must be {'at least' if kind == 'greater_than_equal' else 'more than'} {bound}"
    if kind in TYPES:
        return f"{field} must be {HINTS.get(field, TYPES[kind])}, not {given!r}"
    return str(error["msg"]).removeprefix("Value error, ")
