"""Readers get their language: every visible string goes through the catalogs, and French has them all."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2 import nodes

from veille.i18n import Formats, negotiate, template_environment

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "veille"
TEMPLATES = sorted(PACKAGE.glob("*/templates/*.j2"))
PARIS = ZoneInfo("Europe/Paris")


def _extracted() -> set[tuple[str | None, str]]:
    method_map = [("veille/**.py", "python"), ("veille/**/templates/**.j2", "jinja2")]
    options = {"veille/**/templates/**.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True",
                                              "lstrip_blocks": "True"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "NC_": ((1, "c"), 2)}
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(str(ROOT), method_map, options, keywords):
        found.add((context, message if isinstance(message, str) else message[0]))
    return {m for m in found if m[1]}


def test_every_string_readers_see_has_a_french_translation():
    """Each string marked for translation in the code and templates is in the French catalog, translated and
    not fuzzy: add the translation (`make messages`, then edit veille/locale/fr/LC_MESSAGES/veille.po)."""
    with (PACKAGE / "locale/fr/LC_MESSAGES/veille.po").open("rb") as po:
        catalog = read_po(po, locale="fr")
    translated = {}
    for message in catalog:
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated[(message.context, key)] = bool(key) and all(strings) and not message.fuzzy
    extracted = _extracted()
    assert len(extracted) > 60
    missing = sorted(m for m in extracted if not translated.get(m))
    assert not missing, f"no French translation for: {missing}"


def _visible_literal_text(path: Path) -> list[str]:
    """The words a template writes itself, outside {% trans %} and _(): each one would reach readers untranslated."""
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    tree = env.parse(path.read_text(encoding="utf-8"))
    words = []
    for data in tree.find_all(nodes.TemplateData):
        text = re.sub(r"<(style|script)\b.*?</\1>", " ", data.data, flags=re.S | re.I)
        text = re.sub(r"<[^>]*>?", " ", text)  # tags and their attributes (an attribute's value is not prose)
        text = re.sub(r"^[^<]*>", " ", text)  # the end of a tag opened in an earlier piece
        text = re.sub(r"[\w-]+=(\"[^\"]*\"?|'[^']*'?)", " ", text)  # attributes split by a {% if %}
        text = re.sub(r"&\w+;", " ", text)
        words += [w for w in re.findall(r"[^\W\d_]{2,}", text) if w not in {"CPV", "veille", "ICS", "CSV", "XLSX",
                                                                               "JSON", "Atom", "iCal", "Excel"}]
    return words


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_templates_write_no_prose_outside_the_catalog(path):
    assert _visible_literal_text(path) == []


def test_a_word_outside_the_catalog_is_caught(tmp_path):
    """The check above fails on a template that writes a word of its own (it can fail)."""
    bad = tmp_path / "bad.html.j2"
    bad.write_text('<p class="x">{{ _("ok") }} Closing soon</p><style>p { color: red }</style>')
    assert _visible_literal_text(bad) == ["Closing", "soon"]


def test_dates_numbers_and_amounts_in_french_and_english():
    fr, en = Formats("fr", PARIS), Formats("en", PARIS)
    monday = datetime(2026, 11, 9, 9, tzinfo=UTC)
    assert fr.day(monday) == "lun. 9 nov. 2026" and en.day(monday) == "Mon 9 Nov 2026"
    assert fr.moment(monday) == "lun. 9 nov. 2026, 10:00"  # Paris time
    assert fr.money(2_400_000, "EUR").replace("\u202f", " ").replace("\xa0", " ") == "2 400 000 €"
    assert en.money(2_400_000, "EUR") == "€2,400,000"
    assert fr.until(datetime(2026, 11, 13, 12, tzinfo=UTC), monday) == "dans 4 jours"
    assert en.until(datetime(2026, 11, 13, 12, tzinfo=UTC), monday) == "in 4 days"
    assert fr.until(datetime(2026, 11, 9, 22, tzinfo=UTC), monday) == "aujourd’hui" or \
        fr.until(datetime(2026, 11, 9, 22, tzinfo=UTC), monday) == "aujourd'hui"
    assert fr.period(date(2026, 11, 9), date(2026, 11, 15)) == "9–15 nov. 2026"
    assert fr.period(date(2026, 12, 28), date(2027, 1, 3)) == "28 déc. 2026 – 3 janv. 2027"


def test_a_value_says_what_it_is_and_a_deadline_what_is_due():
    fr, en = Formats("fr", PARIS), Formats("en", PARIS)

    def plain(text: str) -> str:
        return text.replace("\u202f", " ").replace("\xa0", " ")
    assert plain(fr.value(390_698, "EUR", "awarded")) == "montant attribué 390 698 €"
    assert plain(fr.value(1_200_000, "EUR", "estimated")) == "valeur estimée 1 200 000 €"
    assert plain(fr.value(None, "EUR", "awarded", 6_680_000, 7_100_000)) == \
        "montant attribué de 6 680 000 € à 7 100 000 €"
    assert en.value(None, "GBP", None, 1_000, 2_000) == "amount from £1,000 to £2,000"  # kind unknown: no claim
    assert plain(fr.value(None, "EUR", "received", 74_102, 121_914)) == "offres reçues de 74 102 € à 121 914 €"
    assert fr.value(None, None) == "" and fr.value(None, "EUR", "awarded", 1_000, None) == ""
    assert fr.due("participation") == "candidatures jusqu'au" and fr.due(None) == fr.due("tender") == "date limite"
    assert en.due("interest") == "expressions of interest by"


@pytest.mark.parametrize(("header", "lang"), [("fr-FR,fr;q=0.9,en;q=0.8", "fr"), ("en-GB,en;q=0.9", "en"),
                                              ("de-DE,de;q=0.9,en;q=0.5", "en"), ("de", "fr"), ("", "fr"),
                                              ("en;q=0.2, fr;q=0.8", "fr"), ("en;q=x", "fr")])
def test_the_browser_language_is_chosen_among_french_and_english(header, lang):
    assert negotiate(header, "fr") == lang


def test_french_templates_render_french():
    env = template_environment("veille.digest", "fr")
    assert env.from_string('{{ _("Closing soon") }}').render() == "Se terminent bientôt"
    assert template_environment("veille.digest", "en").from_string('{{ _("Closing soon") }}').render() == \
        "Closing soon"


def test_reasons_are_said_in_the_readers_language_without_ids():
    from veille.reasons import explain

    labels = {"membranes": "Membranes et filtration"}
    assert explain("topic membranes: 'ultrafiltration' in title", "fr", labels) == \
        "Membranes et filtration : « ultrafiltration » dans le titre"
    assert explain("keyword 'biofilm': 'biofilm' in summary", "fr", labels) == \
        "mot-clé 'biofilm' : « biofilm » dans le résumé"
    assert explain("CPV 45252127 matches 4525", "fr", labels) == "CPV 45252127 dans 4525"
    assert explain("topic membranes", "en", {"membranes": "Membranes & filtration"}) == "Membranes & filtration"
    assert explain("'Station d'épuration' in title", "en", labels) == "“Station d'épuration” in the title"
