"""Amounts and dates read from tender text: the right value, or None, never a made-up one (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from veille.collect.money import money
from veille.collect.normalize import parse_date
from veille.collect.tender import amount, tender_value

AMOUNTS = [
    ("1.200.000", 1200000.0, None),
    ("1 200 000 €", 1200000.0, "EUR"),
    ("1\u00a0200\u00a0000 €", 1200000.0, "EUR"),
    ("1\u202f200\u202f000,50\u00a0€", 1200000.5, "EUR"),
    ("45 000 EUR HT", 45000.0, "EUR"),
    ("R$ 1.234,56", 1234.56, "BRL"),
    ("1,2 M€", 1200000.0, "EUR"),
    ("USD 3.5 million", 3500000.0, "USD"),
    ("CAD 250,000", 250000.0, "CAD"),
    ("SAR 12,500,000", 12500000.0, "SAR"),
    ("2,5 millions d'euros", 2500000.0, "EUR"),
    ("€1.5m", 1500000.0, "EUR"),
    ("150 k€", 150000.0, "EUR"),
    ("1.234.567,89 €", 1234567.89, "EUR"),
    ("US$ 2,000,000", 2000000.0, "USD"),
    ("BRL 1.500.000,00", 1500000.0, "BRL"),
    ("12 500 000 riyals", 12500000.0, None),  # Saudi or Qatari: the number only
    ("R$ 150 mil", 150000.0, "BRL"),
    ("3,2 milhões de reais", 3200000.0, "BRL"),
    ("2 mil millones de euros", 2000000000.0, "EUR"),
    ("Montant estimé : 1 200 000 € HT", 1200000.0, "EUR"),
    ("Valor estimado: R$ 93.241,50", 93241.5, "BRL"),
    ("Estimated value: GBP 750,000 excl. VAT", 750000.0, "GBP"),
    ("£1.2bn", 1200000000.0, "GBP"),
    ("2 Md€", 2000000000.0, "EUR"),
    ("1,5 milliard d'euros", 1500000000.0, "EUR"),
    ("AED 4.2 mn", 4200000.0, "AED"),
    ("QAR 850,000", 850000.0, "QAR"),
    ("3.5 MEUR", 3500000.0, "EUR"),
    ("450.000,00 € TTC", 450000.0, "EUR"),
    ("1'250'000 CHF", 1250000.0, "CHF"),
    ("environ 3 M€", 3000000.0, "EUR"),
    ("120.000 € IVA incluido", 120000.0, "EUR"),
    ("1,200,000.50", 1200000.5, None),
    ("1234.567", 1234.567, None),  # 4 digits before the mark: not a thousands group
    ("12,5", 12.5, None),
    ("$ 2,000,000", 2000000.0, None),  # US, Canadian, Mexican…: the number only
    ("KWD 1.234,500", 1234.5, "KWD"),
]
UNREADABLE = [
    "Lot 3", "2 lots", "n° 45", "phase 2", "tranche 1", "45 000 EH", "12/11/2026", "2026-11-12", "12.11.2026",
    "+33 1 23 45 67 89", "01 23 45 67 89", "0612345678", "1,5 m", "10 km", "100 000 - 200 000 €", "USD 100 €",
    "1.234 million", "KWD 1.234", "1,234,56", "12,34,567", "Lot 3 : 45 000 €", "", "€", "non communiqué",
]


@pytest.mark.parametrize(("text", "number", "currency"), AMOUNTS)
def test_money_reads_number_and_currency(text: str, number: float, currency: str | None) -> None:
    """FR/EN/PT/ES separators, symbols and codes before or after, multipliers: the number and ISO currency."""
    assert money(text) == (number, currency)


@pytest.mark.parametrize("text", UNREADABLE)
def test_money_gives_none_when_unsure(text: str) -> None:
    """Lots, phases, dates, phone numbers, ranges and ambiguous groupings are not amounts."""
    assert money(text) == (None, None)


def test_tables_are_large_enough() -> None:
    """The issue asks for at least 30 spellings and 8 refusals."""
    assert len(AMOUNTS) >= 30 and len(UNREADABLE) >= 8


def test_currency_hint_settles_shared_names() -> None:
    """A source's currency picks among the currencies a name may mean, and fills one the text does not name."""
    assert money("12 500 000 riyals", "SAR") == (12500000.0, "SAR")
    assert money("$ 2,000,000", "CAD") == (2000000.0, "CAD")
    assert money("12 500 000 riyals", "EUR") == (12500000.0, None)
    assert money("45 000", "EUR") == (45000.0, "EUR")
    assert money("45 000 USD", "EUR") == (45000.0, "USD")


def test_numbers_stay_as_given() -> None:
    """Numeric JSON values are kept as they are, with the source's currency."""
    assert amount(1234.567) == 1234.567 and amount(["500000"]) == 500000.0 and amount(None) is None
    assert tender_value(93241.5, "BRL") == (93241.5, "BRL") and tender_value(True) == (None, None)


NOT_DATES = ["Lot 3", "n° 45", "2 lots", "phase 2", "tranche 1", "45 000 EH", "3", "2026", "novembre 2026",
             "45 000", "Lot 3 - 2 lots", "not a date", "1 200 000 €"]
DATES = [
    ("12 novembre 2026 à 14h30", datetime(2026, 11, 12, 13, 30, tzinfo=UTC)),
    ("le 12 novembre 2026", datetime(2026, 11, 11, 23, tzinfo=UTC)),
    ("lundi 30 novembre 2026 à 12h00", datetime(2026, 11, 30, 11, tzinfo=UTC)),
    ("1er décembre 2026", datetime(2026, 11, 30, 23, tzinfo=UTC)),
    ("12/11/2026 14h", datetime(2026, 11, 12, 13, tzinfo=UTC)),
    ("Publié le 12/11/2026 à 10h00", datetime(2026, 11, 12, 9, tzinfo=UTC)),
    ("Date limite : 30/11/2026 à 12:00", datetime(2026, 11, 30, 11, tzinfo=UTC)),
    ("quarta-feira, 2 de dezembro de 2026 às 10:00", datetime(2026, 12, 2, 9, tzinfo=UTC)),
    ("Seg, 24 Set 2018 19:42:40 -0300", datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)),
    ("Mon, 09 Nov 2026 10:00:00 +0100", datetime(2026, 11, 9, 9, tzinfo=UTC)),
    ("November 30, 2026", datetime(2026, 11, 29, 23, tzinfo=UTC)),
    ("02-Dec-2026", datetime(2026, 12, 1, 23, tzinfo=UTC)),
    ("2026-11-12T10:00:00+01:00", datetime(2026, 11, 12, 9, tzinfo=UTC)),
]


@pytest.mark.parametrize("text", NOT_DATES)
def test_no_date_is_made_up(text: str) -> None:
    """Numbers in other words, or a date missing its day, month or year, give no date."""
    assert parse_date(text, "Europe/Paris") is None


@pytest.mark.parametrize(("text", "expected"), DATES)
def test_written_dates_are_read(text: str, expected: datetime) -> None:
    """Dates with weekdays, 'le', 'à 12h00', ordinals and a label before them are read in the source's zone."""
    assert parse_date(text, "Europe/Paris") == expected
