"""The readers' languages: gettext catalogs and Babel formats for dates, numbers and amounts.

Every string a reader sees is marked `_()` (Python) or `{% trans %}` / `_()` (templates) in English, the
source language; `veille/locale/fr/LC_MESSAGES/veille.po` translates it (`make messages` extracts and
updates the catalog with Babel). The catalog is read from its `.po` at first use: no build step.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LANGS = ("fr", "en")
DEFAULT_LANG = "fr"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "veille"


def N_(message: str) -> str:  # the usual name of gettext's no-op marker
    """Mark a string for the catalog without translating it here (it is translated where it is shown)."""
    return message


def NC_(context: str, message: str) -> str:  # the marker of a message with a context
    """Mark a string with its context (pgettext) for the catalog, without translating it here."""
    return message


# what a tender's value is (Item.value_kind) and what its deadline is for (Item.deadline_kind), as readers read it
VALUE_KINDS = {"": N_("amount"), "estimated": N_("estimated value"), "awarded": N_("awarded value"),
               "maximum": N_("framework maximum value"), "received": N_("tenders received")}
DEADLINE_KINDS = {"tender": N_("deadline"), "participation": N_("requests to participate by"),
                  "interest": N_("expressions of interest by"), "consultation": N_("answers to the consultation by"),
                  "comments": N_("comments by"),
                  "application": N_("applications by")}


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of `lang` (English, the source language, has none)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == "en" or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext_for(lang: str) -> Callable[[str], str]:
    return translations(lang).gettext


def negotiate(accept_language: str | None, default: str = DEFAULT_LANG) -> str:
    """The reader language an `Accept-Language` header prefers among LANGS, else `default`."""
    wanted: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        wanted.append((quality, tag.strip().lower()[:2]))
    for _quality, lang in sorted(wanted, key=lambda w: -w[0]):
        if lang in LANGS:
            return lang
    return default


@lru_cache(maxsize=4096)
def _day(value: date, pattern: str, lang: str) -> str:
    """A day in the pattern of Babel's `format_date` (a digest dates thousands of items with a few dozen days)."""
    from babel.dates import format_date

    return format_date(value, pattern, locale=lang)


class Formats:
    """Dates, numbers and amounts as a reader of `lang` writes them, in the time zone `zone`."""

    def __init__(self, lang: str, zone: ZoneInfo):
        self.lang = lang if lang in LANGS else DEFAULT_LANG
        self.zone = zone
        self.gettext = gettext_for(self.lang)

    def _local(self, value: datetime | date) -> datetime | date:
        return value.astimezone(self.zone) if isinstance(value, datetime) else value

    def day(self, value: datetime | date | None) -> str:
        """"lun. 9 nov. 2026" / "Mon 9 Nov 2026"."""
        return "" if value is None else _day(self._local_day(value), "EEE d MMM y", self.lang)

    def short_day(self, value: datetime | date | None) -> str:
        """"9 nov." / "9 Nov"."""
        return "" if value is None else _day(self._local_day(value), "d MMM", self.lang)

    def _local_day(self, value: datetime | date) -> date:
        return value.astimezone(self.zone).date() if isinstance(value, datetime) else value

    def moment(self, value: datetime | date | None) -> str:
        """"lun. 9 nov. 2026, 12:00" / "Mon 9 Nov 2026, 12:00"; a day alone (a deadline given without a time) as
        that day."""
        from babel.dates import format_datetime

        if value is None:
            return ""
        if not isinstance(value, datetime):
            return self.day(value)
        return format_datetime(value.astimezone(self.zone), "EEE d MMM y, HH:mm", locale=self.lang)

    def period(self, first: date, last: date) -> str:
        """"9–15 nov. 2026" / "9–15 Nov 2026"."""
        from babel.dates import format_date

        if (first.year, first.month) == (last.year, last.month):
            return f"{first.day}–{format_date(last, 'd MMM y', locale=self.lang)}"
        if first.year == last.year:
            return f"{format_date(first, 'd MMM', locale=self.lang)} – {format_date(last, 'd MMM y', locale=self.lang)}"
        return f"{format_date(first, 'd MMM y', locale=self.lang)} – {format_date(last, 'd MMM y', locale=self.lang)}"

    def number(self, value: float | int) -> str:
        from babel.numbers import format_decimal

        return format_decimal(value, locale=self.lang)

    def signed(self, value: int) -> str:
        return ("+" if value > 0 else "") + self.number(value)

    def money(self, amount: float | None, currency: str | None) -> str:
        """"2 400 000 €" / "€2,400,000" (no cents); the bare number when the currency is unknown."""
        from babel.numbers import UnknownCurrencyError, format_currency

        if amount is None:
            return ""
        pattern = "#,##0 ¤" if self.lang == "fr" else "¤#,##0"
        if not currency:
            return self.number(round(amount))
        try:
            return format_currency(round(amount), currency, format=pattern, currency_digits=False, locale=self.lang)
        except UnknownCurrencyError:
            return f"{self.number(round(amount))} {currency}"

    def value(self, amount: float | None, currency: str | None, kind: str | None = None,
              low: float | None = None, high: float | None = None) -> str:
        """A tender's value with what it is: "valeur estimée 1 200 000 €", "montant attribué 390 698 €", a range
        "valeur estimée de 1 000 000 € à 1 500 000 €"; "" when there is none."""
        label = self.gettext(VALUE_KINDS.get(kind or "", VALUE_KINDS[""]))
        if amount is not None:
            return f"{label} {self.money(amount, currency)}"
        if low is not None and high is not None:
            return self.gettext("{label} from {low} to {high}").format(
                label=label, low=self.money(low, currency), high=self.money(high, currency))
        return ""

    def due(self, kind: str | None) -> str:
        """What a deadline is for, to put before it: "date limite", "candidatures jusqu'au"…"""
        return self.gettext(DEADLINE_KINDS.get(kind or "", DEADLINE_KINDS["tender"]))

    def country(self, code: str | None) -> str:
        """A country's name in the reader's language ("Espagne" for ES), its code when Babel does not know it."""
        from babel import Locale

        return str(Locale.parse(self.lang).territories.get(code.upper(), code)) if code else ""

    def language(self, code: str | None) -> str:
        """A language's name in the reader's language ("anglais" for en), its code when Babel does not know it."""
        from babel import Locale

        return str(Locale.parse(self.lang).languages.get(code, code)) if code else ""

    def until(self, deadline: datetime, now: datetime) -> str:
        """"dans 4 jours" / "in 4 days", counted in calendar days in the zone; "aujourd'hui" / "today"."""
        from babel.dates import format_timedelta

        days = (deadline.astimezone(self.zone).date() - now.astimezone(self.zone).date()).days
        if days == 0:
            return self.gettext("today")
        if days == 1:
            return self.gettext("tomorrow")
        return format_timedelta(timedelta(days=days), granularity="day", threshold=1000, add_direction=True,
                                locale=self.lang)


@cache
def template_environment(package: str, lang: str) -> Any:
    """A Jinja2 environment for `package`'s templates (HTML ones escaped), its i18n extension speaking `lang`."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    numbers = Formats(lang, ZoneInfo("UTC"))  # numbers need no zone
    env.filters |= {"number": numbers.number, "signed": numbers.signed}
    return env
