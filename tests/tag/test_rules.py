"""Topic rules: case- and accent-insensitive, word-bounded, plural-tolerant, multilingual, with exclusions."""

from __future__ import annotations

from pathlib import Path

import pytest

from veille.config import load_topics
from veille.keywords import evaluate, parse
from veille.models import Item, Member
from veille.tag import Tagger
from veille.tag.rules import compile_taxonomy, tag_topics
from veille.text import fold, fold_ascii

TOPICS, _ = load_topics(Path("/nonexistent"))
TAXONOMY = compile_taxonomy(TOPICS)


def topics(title: str, summary: str = "") -> set[str]:
    return set(tag_topics(title, summary, TAXONOMY))


@pytest.mark.parametrize(("title", "expected"), [
    ("Nouvelle usine d'ULTRAFILTRATION à Toulouse", "membranes"),  # case
    ("Les eaux usees de la commune", "wastewater"),  # accents missing in the text
    ("Réutilisation des eaux usées traitées en Occitanie", "water_reuse"),
    ("Stations d'épuration : le plan de relance", "wastewater"),  # plural of a multi-word term
    ("Desalination plants in the Gulf", "desalination"),
    ("Usina de dessalinização no Ceará", "desalination"),  # Portuguese
    ("Nova estação de tratamento de esgoto em Campinas", "wastewater"),
    ("Planta desaladora en Murcia", "desalination"),  # Spanish
    ("Forever chemicals found in tap water", "micropollutants"),
    ("Floração de cianobactérias no reservatório", "algae"),
    ("Leak detection pilot cuts non-revenue water", "networks"),
    ("Capteurs de qualité de l'eau en temps réel", "sensors"),
    ("Cooling water treatment at the refinery", "industrial_water"),
])
def test_multilingual_terms(title, expected):
    assert expected in topics(title)


@pytest.mark.parametrize(("title", "absent"), [
    ("Membrane d'étanchéité pour toiture terrasse", "membranes"),  # false friend excluded
    ("Cell membrane proteins and cancer", "membranes"),
    ("Assainissement des finances publiques", "wastewater"),
    ("Step by step guide to the next step", "wastewater"),  # STEP is an abbreviation: case-sensitive
    ("Réseau social : la fuite de données", "networks"),
    ("Bloomberg reports record quarter", "algae"),
    ("Les algorithmes de recommandation", "algae"),  # word-bounded
    ("Capteur photo de 50 mégapixels", "sensors"),
])
def test_false_friends_and_word_bounds(title, absent):
    assert absent not in topics(title)


def test_abbreviations_are_case_sensitive_tokens():
    assert "wastewater" in topics("La STEP de Ginestous agrandie", "Station d'épuration de 950 000 EH.")
    assert "wastewater" not in topics("A step forward", "step")


def test_weak_terms_alone_need_two_different_ones():
    """An ambiguous word once in a title is not enough, nor the same word again in the summary (in any case, or
    its plural); a second ambiguous word counts."""
    assert "membranes" not in topics("Membranes and Magnolias")
    assert "membranes" not in topics("Membranes : un marché mûr", "Les membranes progressent en France.")
    assert "membranes" not in topics("Membrane : un marché mûr", "Les MEMBRANES progressent en France.")
    assert "industrial_water" not in topics("Recueil d'informations sur les mines", "Les mines du nord.")
    # whatever its spelling: a French plural in -x, a plural on the first word, accents, apostrophes, and twice in
    # one field
    assert "networks" not in topics("Le réseau de Lyon", "Les réseaux de la ville.")
    assert "sensors" not in topics("Une station de mesure installée", "Les stations de mesure relèvent.")
    assert "sensors" not in topics("La qualité de l’eau en question", "La qualité de l'eau se dégrade.")
    assert "membranes" not in topics("Un marché mûr", "La membrane et les membranes progressent, filtration.")
    assert "membranes" in topics("Membranes : un marché mûr", "La filtration progresse en France.")
    assert "membranes" in topics("Un marché mûr", "Membranes, filtration et osmose progressent en France.")


def test_evidence_names_word_and_field():
    tags = tag_topics("Ultrafiltration plant", "A membrane bioreactor", TAXONOMY)
    assert tags["membranes"].evidence[:2] == ["'Ultrafiltration' in title", "'membrane bioreactor' in summary"]
    assert tags["membranes"].score == 3.0


def test_source_topics_are_added():
    tags = tag_topics("Quarterly results", "", TAXONOMY, ["networks"])
    assert tags["networks"].evidence == ["source topic"]


def test_fold_keeps_positions():
    folded = fold("Éléments d'épuration")
    assert folded.text == "elements d epuration"
    assert folded.original_slice(11, 20) == "épuration"


@pytest.mark.parametrize("text", [
    "Éléments d'épuration", "L’eau – 5 µm, 3 €", "Ωμέγα ultrafiltration", "عربي 🙂 membrane", "ÆØÅ æøå ß ﬁ", "",
])
def test_fold_ascii_is_fold_with_one_byte_per_character(text):
    assert fold_ascii(text) == fold(text).text.encode("ascii", "replace")
    assert len(fold_ascii(text)) == len(text)


def test_text_beyond_latin_keeps_word_bounds_and_positions():
    """Greek, Arabic or emoji beside a term: the scan (in bytes when every pattern is ASCII) still finds
    whole words only, and quotes them at the right place."""
    tags = tag_topics("Ωμέγα ultrafiltration ήδη", "عربي 🙂 membrane bioreactor 💧", TAXONOMY)
    assert tags["membranes"].evidence[:2] == ["'ultrafiltration' in title", "'membrane bioreactor' in summary"]
    assert "membranes" not in topics("Ωultrafiltration🙂membraneΩ bioreactorμ")


def test_patterns_beyond_ascii_are_found_too():
    """A profile phrase that stays non-ASCII once folded (Greek) makes the matcher search characters."""
    tagger = Tagger.build(TOPICS, [Member(id="m", name="M", topics=("membranes",), keywords=("μεμβράνη",))])
    assert tagger.taxonomy.matcher._bytes is None
    hit = tagger.tag(Item(id="1", source="s", kind="news", title="Νέα μεμβράνη — ultrafiltration",
                          summary="Une membrane d'ultrafiltration"))
    assert hit.members["m"].reasons == ["topic membranes: 'ultrafiltration' in title",
                                        "keyword 'μεμβράνη': 'μεμβράνη' in title"]


def test_keyword_expressions():
    """AND, OR, NOT, parentheses and quoted phrases; a malformed entry is refused (it would never match)."""
    expr = parse('membrane AND (eau OR water) AND NOT "membrane d\'étanchéité"')
    assert evaluate(expr, {"membrane": "'membranes' in title", "eau": "'eau' in title"}) == [
        "'membranes' in title", "'eau' in title"]
    assert evaluate(expr, {"membrane": "x", "eau": "y", "membrane d'étanchéité": "z"}) is None
    assert evaluate(expr, {"membrane": "x"}) is None
    with pytest.raises(ValueError, match="unclosed parenthesis"):
        parse("(unclosed")
    text = 'membrane AND (eau OR water) AND NOT "membrane d\'étanchéité"'
    tagger = Tagger.build(TOPICS, [Member(id="m", name="M", keywords=(text,))])
    hit = tagger.tag(Item(id="1", source="s", kind="news", title="Des membranes pour l'eau potable"))
    assert hit.members["m"].reasons[-1] == f"keyword {text!r}: 'membranes' in title, 'eau' in title"
    roof = tagger.tag(Item(id="2", source="s", kind="news", title="Membrane d'étanchéité et eau de pluie"))
    assert "m" not in roof.members


def test_member_matching_with_reasons_and_filters():
    """Members match on topics, keywords and CPV prefixes, within their kinds and regions, minus exclusions."""
    members = [
        Member(id="uf", name="UF maker", topics=("membranes",), keywords=("PVDF",), regions=("FR", "GULF")),
        Member(id="lab", name="Lab", topics=("membranes",), kinds=("funding",)),
        Member(id="pipes", name="Pipes", cpv=("4523",), exclude=("toiture",)),
    ]
    tagger = Tagger.build(TOPICS, members)
    item = tagger.tag(Item(id="1", source="s", kind="tender", title="Modules d'ultrafiltration PVDF",
                           country="SA", cpv=["45232150"]))
    assert set(item.members) == {"uf", "pipes"}
    assert item.members["uf"].reasons == ["topic membranes: 'Modules d'ultrafiltration' in title",
                                          "keyword 'PVDF': 'PVDF' in title"]
    assert item.members["pipes"].reasons == ["CPV 45232150 matches 4523"]
    brazil = tagger.tag(Item(id="2", source="s", kind="tender", title="Ultrafiltração", country="BR"))
    assert "uf" not in brazil.members  # outside the member's regions
    roof = tagger.tag(Item(id="3", source="s", kind="tender", title="Réfection de toiture", cpv=["45232150"]))
    assert "pipes" not in roof.members  # excluded word


def test_member_reasons_follow_each_members_topic_order_then_keywords_then_cpv():
    """Reasons list the followed topics in the member's own order, then keywords, then CPV codes; many
    items tagged together get the same reasons as each alone."""
    members = [
        Member(id="a", name="A", topics=("wastewater", "membranes"), keywords=("PVDF", "MBR"), cpv=("4523",)),
        Member(id="b", name="B", topics=("membranes", "drinking_water", "wastewater")),
        Member(id="c", name="C", topics=("sensors",), keywords=("PVDF",)),
    ]
    tagger = Tagger.build(TOPICS, members)
    texts = [("Station d'épuration : bioréacteur à membranes (MBR)", "Ultrafiltration PVDF.", ["45232150"]),
             ("Quarterly results", "Nothing here.", []),
             ("Usine d'eau potable : ultrafiltration", "Eau potable, membranes PVDF.", [])]
    items = [Item(id=str(n), source="s", kind="tender", title=title, summary=summary, cpv=cpv)
             for n, (title, summary, cpv) in enumerate(texts)]
    tagger.tag_many(items)
    first, second, third = (i.members for i in items)
    assert [r.split(":")[0] for r in first["a"].reasons] == [
        "topic wastewater", "topic membranes", "keyword 'PVDF'", "keyword 'MBR'", "CPV 45232150 matches 4523"]
    assert [r.split(":")[0] for r in first["b"].reasons] == [
        "topic membranes", "topic drinking_water", "topic wastewater"]
    assert first["c"].reasons == ["keyword 'PVDF': 'PVDF' in summary"]
    assert second == {}
    assert [r.split(":")[0] for r in third["b"].reasons] == ["topic membranes", "topic drinking_water"]
    for item in items:  # the same, one at a time
        alone = tagger.tag(Item(id=item.id, source="s", kind="tender", title=item.title, summary=item.summary,
                                cpv=item.cpv))
        assert {m: (v.score, v.reasons) for m, v in alone.members.items()} == {
            m: (v.score, v.reasons) for m, v in item.members.items()}


def test_rain_and_unfit_water_are_not_reuse_by_themselves():
    """Rain and water declared unfit to drink are news of weather and contamination: no reuse alone; harvesting
    rainwater is reuse."""
    assert "water_reuse" not in topics("Orages : les eaux de pluie ont inondé le centre-ville")
    assert "water_reuse" not in topics("L'eau du robinet déclarée non potable à Saint-Martin")
    assert "water_reuse" in topics("Récupération des eaux de pluie : un guide pour les collectivités")


def test_an_inquiry_is_not_a_probe():
    """"Probe" alone is as often an inquiry as an instrument; a named probe measures."""
    assert "sensors" not in topics("Judge rules on jurors", "As part of his broader probe of election meddling")
    assert "sensors" in topics("New pH probe for wastewater", "A conductivity probe measures salinity online.")


def test_words_of_other_trades_need_a_second_network_word():
    """Leaks of documents, asset managers, power lines, a factory's digital twin: not water networks alone; with a
    second network word they are."""
    assert "networks" not in topics("Nouvelles fuites au ministère", "Les fuites se multiplient dans la presse.")
    assert "networks" not in topics("Asset management giant buys a rival", "The deal creates a new leader.")
    assert "networks" not in topics("A digital twin for the car plant", "Engineers model the assembly line.")
    assert "networks" not in topics("New transmission line approved", "The power line will carry 400 kV.")
    assert "networks" in topics("Fuites : la ville renouvelle son réseau", "Les fuites atteignent 20 %.")


def test_mud_electricity_meters_and_patient_monitoring_are_not_water_topics_alone():
    """Mud is not sludge, an electricity meter or a patient's remote monitoring not water sensing, a weather
    station not a water-quality one, by themselves; with a second word of the topic they count."""
    assert "wastewater" not in topics("Intempéries : des coulées de boues dans le village")
    assert "wastewater" not in topics("Inundaciones: calles cubiertas de lodos")
    assert "sensors" not in topics("Smart meters for every home", "The electricity supplier starts next year.")
    assert "sensors" not in topics("Remote monitoring of heart patients", "A hospital trial.")
    assert "sensors" not in topics("Météo : les stations de mesure ont relevé 40 °C")
    assert "wastewater" in topics("Boues : la station d'épuration investit", "Les boues seront séchées.")


def test_carbon_capture_cleaning_in_place_and_hospital_resistance_need_water_words():
    """Carbon capture is no catchment, a food plant's cleaning in place no membrane, antibiotic resistance in a
    hospital no micropollutant, by themselves; a catchment is drinking water."""
    assert "drinking_water" not in topics("Captage du CO2 : un pilote à Dunkerque", "Le captage et stockage progresse.")
    assert "drinking_water" in topics("Protection du captage de Saint-Martin", "Le captage alimente 3000 habitants.")
    assert "membranes" not in topics("Dairy upgrades its clean-in-place system", "Tanks are cleaned faster.")
    assert "micropollutants" not in topics("Antimicrobial resistance rises in hospitals", "Doctors warn.")
    assert "micropollutants" in topics("Antibiorésistance et micropolluants dans les rivières")
