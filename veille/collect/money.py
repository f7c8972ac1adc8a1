"""Read an amount of money written as text: the number and its ISO 4217 currency, or None when unsure.

`money("1,2 M€") == (1200000.0, "EUR")`, `money("R$ 1.234,56") == (1234.56, "BRL")`,
`money("Lot 3") == (None, None)`. The text must be an amount and nothing else, save a label ending in
a colon ("Montant estimé : …"), "about"/"environ"/"aprox." before and tax words ("HT", "TTC",
"excl. VAT", "sin IVA"…) after: a number inside other words ("2 lots", "phase 2", "45 000 EH") is not
read, nor are dates, phone numbers or ranges.

Separators (FR/EN/PT/ES): spaces (also no-break, narrow no-break and thin), apostrophes, dots and commas
group thousands; the last dot or comma is the decimal mark when both appear. A single dot or comma is
ambiguous ("1.234", "1,234"): it is read as a thousands separator when it has 1 to 3 digits before it and
exactly 3 after, otherwise as the decimal mark ("1234.567" and "1,5" are decimals). Two cases keep that
reading unsure, so they give None: a currency with three decimals (BHD, IQD, JOD, KWD, LYD, OMR, TND:
"1.234 KWD" may be one dinar), and a multiplier ("1,234 million" is 1.234 million in French, 1,234
million in English). Groups must be 3 digits; an integer starting with 0 is not an amount.

Multipliers: k, mil (PT/ES: thousand), M, m (only beside a currency: "€1.5m"; "1,5 m" is a length), mn,
Mio, MM, million(s), millón/millones, milhão/milhões; bn, Md, Mds, Mrd, billion(s), milliard(s),
bilhão/bilhões, mil millones (10⁹).

Currencies, before or after the number: ISO codes in capitals, symbols (€, £, R$, US$, C$, CA$, A$…) and
names (euros, d'euros, reais, dollars US…). A name or symbol shared by several currencies ("$", "riyals",
"dirhams", "FCFA") gives the `currency` hint when it is one of them, else None: the number is still read.
Text naming two different currencies gives (None, None).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

THREE_DECIMALS = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
CODES = frozenset({
    "EUR", "USD", "CAD", "BRL", "SAR", "AED", "QAR", "GBP", "CHF", "MAD", "DZD", "TND", "XOF", "XAF", "KWD",
    "BHD", "OMR", "JOD", "IQD", "LYD", "EGP", "INR", "CNY", "JPY", "AUD", "NZD", "MXN", "ARS", "CLP", "COP",
    "PEN", "UYU", "ZAR", "NOK", "SEK", "DKK", "PLN", "CZK", "HUF", "RON", "BGN", "TRY", "ILS", "SGD", "HKD",
    "KRW", "MYR", "IDR", "PHP", "THB", "VND", "NGN", "KES", "GHS", "XPF",
})
_DOLLARS = frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "ARS", "CLP", "COP", "UYU"})
# symbol or name (lower case) → the currencies it may mean
_NAMES: dict[str, frozenset[str]] = {
    "€": frozenset({"EUR"}), "euro": frozenset({"EUR"}), "euros": frozenset({"EUR"}),
    "£": frozenset({"GBP"}), "pound sterling": frozenset({"GBP"}), "pounds sterling": frozenset({"GBP"}),
    "livres sterling": frozenset({"GBP"}),
    "r$": frozenset({"BRL"}), "real": frozenset({"BRL"}), "reais": frozenset({"BRL"}),
    "us$": frozenset({"USD"}), "u$s": frozenset({"USD"}), "usd$": frozenset({"USD"}),
    "us dollars": frozenset({"USD"}), "dollars us": frozenset({"USD"}), "dollars américains": frozenset({"USD"}),
    "dólares": frozenset({"USD"}), "dólares estadounidenses": frozenset({"USD"}),
    "c$": frozenset({"CAD"}), "ca$": frozenset({"CAD"}), "cad$": frozenset({"CAD"}),
    "dollars canadiens": frozenset({"CAD"}), "canadian dollars": frozenset({"CAD"}),
    "a$": frozenset({"AUD"}), "au$": frozenset({"AUD"}),
    "$": _DOLLARS, "dollar": _DOLLARS, "dollars": _DOLLARS, "pesos": frozenset({"MXN", "ARS", "CLP", "COP", "UYU"}),
    "riyal": frozenset({"SAR", "QAR"}), "riyals": frozenset({"SAR", "QAR"}), "rial": frozenset({"OMR", "SAR", "QAR"}),
    "rials": frozenset({"OMR", "SAR", "QAR"}),
    "saudi riyals": frozenset({"SAR"}), "riyals saoudiens": frozenset({"SAR"}),
    "qatari riyals": frozenset({"QAR"}), "dirham": frozenset({"AED", "MAD"}), "dirhams": frozenset({"AED", "MAD"}),
    "dh": frozenset({"MAD", "AED"}), "dhs": frozenset({"MAD", "AED"}),
    "fcfa": frozenset({"XOF", "XAF"}), "francs cfa": frozenset({"XOF", "XAF"}),
    "dinars": frozenset({"DZD", "TND", "KWD", "BHD", "JOD", "IQD", "LYD"}),
    "chf": frozenset({"CHF"}), "francs suisses": frozenset({"CHF"}),
}
_THOUSAND, _MILLION, _BILLION = Decimal(1000), Decimal(1000000), Decimal(1000000000)
# written form → (factor, whether it needs a currency beside it to be read as money)
_MULTIPLIERS: dict[str, tuple[Decimal, bool]] = {
    "k": (_THOUSAND, False), "K": (_THOUSAND, False), "mil": (_THOUSAND, False), "thousand": (_THOUSAND, False),
    "m": (_MILLION, True), "M": (_MILLION, False), "mn": (_MILLION, False), "Mn": (_MILLION, False),
    "mio": (_MILLION, False), "Mio": (_MILLION, False), "MM": (_MILLION, False),
    "million": (_MILLION, False), "millions": (_MILLION, False), "millón": (_MILLION, False),
    "millones": (_MILLION, False), "milhão": (_MILLION, False), "milhões": (_MILLION, False),
    "milhao": (_MILLION, False), "milhoes": (_MILLION, False),
    "bn": (_BILLION, False), "Bn": (_BILLION, False), "Md": (_BILLION, False), "Mds": (_BILLION, False),
    "Mrd": (_BILLION, False), "billion": (_BILLION, False), "billions": (_BILLION, False),
    "milliard": (_BILLION, False), "milliards": (_BILLION, False), "bilhão": (_BILLION, False),
    "bilhões": (_BILLION, False), "bilhao": (_BILLION, False), "bilhoes": (_BILLION, False),
    "mil millones": (_BILLION, False),
}


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))  # longest first


_CURRENCY = rf"(?:{_alternatives(CODES)}|(?i:{_alternatives(_NAMES)}))"
_MULTIPLIER = rf"(?:{_alternatives(_MULTIPLIERS)})"
_AMOUNT = re.compile(
    rf"^(?P<pre>{_CURRENCY})?\s*(?P<number>\d[\d.,'’ ]*\d|\d)"
    rf"(?:\s*(?P<mult>{_MULTIPLIER})(?:(?![^\W\d_])|(?={_alternatives(CODES)})))?"
    rf"(?:\s*(?:(?i:d'|d’|de |of ))?(?P<post>{_CURRENCY})(?![^\W\d_]))?$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
_LABEL = re.compile(r"^[^\d:]{1,60}:\s*")
_ABOUT = re.compile(r"^(?i:environ|approx\.?|approximately|about|around|ca\.|aprox\.?|aproximadamente|cerca de|"
                    r"cerca|près de|~|≈)\s*")
_TAX = re.compile(r"\s*[(\[]?(?i:h\.?t\.?(?:v\.?a\.?)?|t\.?t\.?c\.?|hors taxes?|hors tva|net|excl\.? vat|"
                  r"excluding vat|incl\.? vat|including vat|vat excluded|"
                  r"(?:sin|con|más|\+) iva|iva (?:incluido|excluido)|sem impostos|com impostos|"
                  r"estimated|estimé|estimado)[)\]]?\.?$")


def _number(raw: str, unsure_thousands: bool) -> Decimal | None:
    """The number written in `raw` (digits and separators), None when malformed or unsure (see the module)."""
    raw = raw.replace("’", "'")
    marks = [c for c in raw if c in ".,"]
    grouping = " " in raw or "'" in raw
    decimal_mark: str | None = None
    if len(set(marks)) == 2:
        decimal_mark = marks[-1]
    elif len(marks) == 1:
        whole, tail = raw.replace(" ", "").replace("'", "").split(marks[0])
        if grouping or len(tail) != 3 or len(whole) > 3:
            decimal_mark = marks[0]
        elif unsure_thousands:
            return None
    if decimal_mark:
        if raw.count(decimal_mark) != 1:
            return None
        whole, fraction = raw.split(decimal_mark)
        if not fraction.isdigit():
            return None
    else:
        whole, fraction = raw, ""
    groups = re.split(r"[ '.,]", whole)
    if len({c for c in whole if not c.isdigit()}) > 1 or not all(g.isdigit() for g in groups):
        return None
    if len(groups) > 1 and (len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:])):
        return None
    digits = "".join(groups)
    if len(digits) > 1 and digits.startswith("0"):
        return None
    try:
        return Decimal(f"{digits}.{fraction}" if fraction else digits)
    except InvalidOperation:
        return None


def _currencies(written: str | None) -> frozenset[str] | None:
    if written is None:
        return None
    return frozenset({written}) if written in CODES else _NAMES[written.lower()]


def money(text: object, currency: str | None = None) -> tuple[float | None, str | None]:
    """Return (the amount, its ISO 4217 currency) written in `text`; None for what cannot be read surely.

    `currency` is what the source says elsewhere (a currency field, the country's money): it picks among
    the currencies a shared symbol or name may mean ("$", "riyals") and is given when the text names none.
    """
    if text is None or isinstance(text, bool):
        return None, None
    s = _SPACES.sub(" ", str(text)).strip()
    s = _LABEL.sub("", s)
    s = _ABOUT.sub("", s)
    while (stripped := _TAX.sub("", s)) != s:
        s = stripped.strip()
    m = _AMOUNT.match(s.strip())
    if not m:
        return None, None
    pre, post = _currencies(m.group("pre")), _currencies(m.group("post"))
    named = pre & post if pre is not None and post is not None else pre if pre is not None else post
    if named is not None and not named:
        return None, None  # two different currencies
    code: str | None
    if named is None:
        code = currency
    elif len(named) == 1:
        code = next(iter(named))
    else:
        code = currency if currency in named else None
    factor, needs_currency = _MULTIPLIERS.get(m.group("mult") or "", (Decimal(1), False))
    if needs_currency and named is None:
        return None, None
    number = _number(m.group("number"), unsure_thousands=bool(m.group("mult")) or code in THREE_DECIMALS)
    if number is None:
        return None, None
    return float(number * factor), code
