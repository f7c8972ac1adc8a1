"""Each topic in each language: a positive sentence, and false friends that must not be tagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from veille.config import load_topics
from veille.tag.rules import compile_taxonomy, tag_topics

TOPICS, _ = load_topics(Path("/nonexistent"))
TAXONOMY = compile_taxonomy(TOPICS)

POSITIVES = [
    ('membranes', 'fr', "Une usine équipée d'un bioréacteur à membranes"),
    ('membranes', 'en', 'Hollow fibre modules for the plant'),
    ('membranes', 'pt', 'Sistema de osmose reversa para a indústria'),
    ('membranes', 'es', 'Planta de ósmosis inversa en Almería'),
    ('desalination', 'fr', "Le dessalement de l'eau de mer à Marseille"),
    ('desalination', 'en', 'A new desalination plant in Oman'),
    ('desalination', 'pt', 'Usina de dessalinização no Ceará'),
    ('desalination', 'es', 'La desaladora de Torrevieja amplía su capacidad'),
    ('sensors', 'fr', "Des biocapteurs pour la surveillance de la qualité de l'eau"),
    ('sensors', 'en', 'Online analyzers for water quality monitoring'),
    ('sensors', 'pt', 'Monitoramento da qualidade da água com sensores'),
    ('sensors', 'es', 'Sensores para el monitoreo de la calidad del agua'),
    ('drinking_water', 'fr', "L'usine de production d'eau potable de Tournefeuille"),
    ('drinking_water', 'en', 'Drinking water treatment upgrade'),
    ('drinking_water', 'pt', 'Nova estação de tratamento de água em Goiânia'),
    ('drinking_water', 'es', 'El agua potable de la ciudad mejora'),
    ('wastewater', 'fr', "Extension de la station d'épuration de Ginestous"),
    ('wastewater', 'en', 'The sewage treatment works expansion'),
    ('wastewater', 'pt', 'Estação de tratamento de esgoto de Barueri'),
    ('wastewater', 'es', 'La depuradora de aguas residuales de Murcia'),
    ('water_reuse', 'fr', "La réutilisation des eaux usées traitées pour l'irrigation"),
    ('water_reuse', 'en', 'Direct potable reuse in Texas'),
    ('water_reuse', 'pt', 'Reúso de água na indústria paulista'),
    ('water_reuse', 'es', 'Aguas regeneradas para el riego agrícola'),
    ('micropollutants', 'fr', 'Les PFAS, ces polluants éternels'),
    ('micropollutants', 'en', 'Forever chemicals in rivers'),
    ('micropollutants', 'pt', 'Microplásticos encontrados em rios'),
    ('micropollutants', 'es', 'Disruptores endocrinos en el agua'),
    ('networks', 'fr', "Détection de fuites sur le réseau d'eau potable"),
    ('networks', 'en', 'Leak detection cuts non-revenue water'),
    ('networks', 'pt', 'Perdas de água na rede de distribuição de água'),
    ('networks', 'es', 'Fugas de agua en la red de distribución de agua'),
    ('industrial_water', 'fr', "Traitement de l'eau de process dans l'agroalimentaire"),
    ('industrial_water', 'en', 'Ultrapure water for chip makers'),
    ('industrial_water', 'pt', 'Água de processo na mineração'),
    ('industrial_water', 'es', 'Agua de proceso en la industria agroalimentaria'),
    ('algae', 'fr', 'Prolifération de cyanobactéries au lac'),
    ('algae', 'en', 'Harmful algal blooms in Lake Erie'),
    ('algae', 'pt', 'Floração de algas no reservatório'),
    ('algae', 'es', 'Floraciones de algas en el embalse'),
]

FALSE_FRIENDS = [
    ("fr", "Pose d'une membrane d'étanchéité sur la toiture", "membranes"),
    ("en", "Roofing membrane installation for the warehouse", "membranes"),
    ("fr", "Un capteur photo de 50 mégapixels", "sensors"),
    ("en", "Parking sensor recall for two car models", "sensors"),
    ("fr", "Réseau social : la fuite de données continue", "networks"),
    ("pt", "Rede social lança recurso", "networks"),
    ("es", "La red social pierde usuarios", "networks"),
    ("fr", "L'assainissement des finances publiques avance", "wastewater"),
    ("pt", "O saneamento financeiro do clube", "wastewater"),
    ("es", "El saneamiento financiero del banco", "wastewater"),
    ("en", "A big step forward for the team", "wastewater"),
    ("en", "Bloomberg reports record results", "algae"),
    ("fr", "Eau de toilette : les nouveaux parfums", "drinking_water"),
    ("es", "La banda ETA anuncia su disolución", "drinking_water"),
    ("en", "Code reuse in software projects", "water_reuse"),
    ("en", "Cooling-off period for the contract", "industrial_water"),
]


@pytest.mark.parametrize(("topic", "lang", "text"), POSITIVES)
def test_each_topic_in_each_language(topic, lang, text):
    assert topic in tag_topics(text, "", TAXONOMY, lang=lang), text
    assert topic in tag_topics(text, "", TAXONOMY), f"{text} (language unknown)"


@pytest.mark.parametrize(("lang", "text", "topic"), FALSE_FRIENDS)
def test_false_friends(lang, text, topic):
    assert topic not in tag_topics(text, "", TAXONOMY, lang=lang)


def test_language_picks_the_rule_set():
    """Spanish "red" is a network; in an English text it is a colour."""
    summary = "La red de agua potable y la red de saneamiento"
    assert "networks" in tag_topics("Nuevas tuberías", summary, TAXONOMY, lang="es")
    assert "networks" not in tag_topics("Red tide and red algae", "A red warning for the red sea", TAXONOMY,
                                        lang="en")
