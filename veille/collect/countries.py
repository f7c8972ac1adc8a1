"""Countries and languages as the official sources write them → ISO codes; a time zone per country."""

from __future__ import annotations

from functools import lru_cache

import pycountry

from veille.text import fold_phrase
from veille.zones import country_zone

__all__ = ["country_code", "country_zone", "language_alpha3", "language_code"]

# Codes the EU uses that ISO does not, and names pycountry does not know.
_SPECIAL = {"UK": "GB", "EL": "GR", "XK": "XK", "KOS": "XK"}
_NAMES = {"turkiye": "TR", "turkey": "TR", "russia": "RU", "south korea": "KR", "korea": "KR", "iran": "IR",
          "vietnam": "VN", "bolivia": "BO", "tanzania": "TZ", "syria": "SY", "laos": "LA", "moldova": "MD",
          "congo democratic republic of": "CD", "democratic republic of congo": "CD", "cote d ivoire": "CI",
          "ivory coast": "CI", "west bank and gaza": "PS", "kosovo": "XK", "venezuela": "VE"}


def country_code(value: str | None) -> str | None:
    """Return the ISO 3166-1 alpha-2 code of an alpha-2, alpha-3 or English country name; None if unknown."""
    if not value or not value.strip():
        return None
    text = value.strip()
    upper = text.upper()
    if upper in _SPECIAL:
        return _SPECIAL[upper]
    if len(upper) == 2 and pycountry.countries.get(alpha_2=upper):
        return upper
    if len(upper) == 3 and upper.isalpha():
        found = pycountry.countries.get(alpha_3=upper)
        if found:
            return str(found.alpha_2)
    return _by_name(fold_phrase(text))


@lru_cache(maxsize=512)
def _by_name(folded: str) -> str | None:
    if folded in _NAMES:
        return _NAMES[folded]
    for country in pycountry.countries:
        names = {country.name, getattr(country, "common_name", ""), getattr(country, "official_name", "")}
        if folded in {fold_phrase(n) for n in names if n}:
            return str(country.alpha_2)
    return None


def language_code(value: str | None) -> str | None:
    """Return the ISO 639-1 code of a 639-1, 639-2 (`fra`, `POL`) or English language name (`French`)."""
    if not value:
        return None
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        return text.lower()
    found = (pycountry.languages.get(alpha_3=text.lower()) if len(text) == 3 else None) or \
        pycountry.languages.get(name=text.title())
    if found is None and len(text) == 3:  # bibliographic codes: fre, ger, dut…
        found = pycountry.languages.get(bibliographic=text.lower())
    return str(found.alpha_2) if found is not None and hasattr(found, "alpha_2") else None


def language_alpha3(code: str) -> str | None:
    """Return the ISO 639-2/T code (`fra`) of a 639-1 code (`fr`)."""
    found = pycountry.languages.get(alpha_2=code.lower())
    return str(found.alpha_3) if found is not None else None
