"""Tagging throughput: the shipped taxonomy and the 12 member profiles on generated realistic items,
against a naive loop of one regular expression per rule, over the same items in the same run.

    python -m bench [--items 100000] [--naive-items 10000] [--seed 7]

Items are generated from water-sector and general-news sentence templates in French, English,
Portuguese and Spanish (about one in three on topic, with false friends), 150–400 characters each.
Figures are printed as items per second on one core (the process runs single-threaded).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from veille.config import load_topics
from veille.models import Item
from veille.tag import Tagger
from veille.tag.profiles import profile_phrases
from veille.text import fold, phrase_pattern

ROOT = Path(__file__).resolve().parents[1]

ON_TOPIC = {
    "fr": ["La station d'épuration de {city} passe au bioréacteur à membranes",
           "Appel d'offres : fourniture de modules d'ultrafiltration pour l'usine d'eau potable de {city}",
           "PFAS : des polluants éternels détectés dans les captages de {city}",
           "Réutilisation des eaux usées traitées : {city} irriguera ses espaces verts",
           "Des capteurs en ligne surveillent la qualité de l'eau du réseau de {city}",
           "Cyanobactéries : la baignade interdite au lac de {city}",
           "Fuites d'eau : {city} renouvelle 30 km de canalisations"],
    "en": ["{city} awards reverse osmosis desalination plant contract",
           "Membrane bioreactor upgrade for the {city} wastewater treatment plant",
           "Forever chemicals found in {city} drinking water supply",
           "Leak detection cuts non-revenue water in {city}",
           "Harmful algal blooms close the {city} water intake",
           "Cooling water recycling at a semiconductor fab near {city}"],
    "pt": ["{city} inaugura estação de tratamento de esgoto com ultrafiltração",
           "Licitação para dessalinização de água do mar em {city}",
           "Reúso de efluentes tratados na indústria de {city}"],
    "es": ["{city} adjudica la desaladora de ósmosis inversa",
           "Depuradora de aguas residuales de {city}: nueva línea de tratamiento terciario",
           "Microplásticos en el agua potable de {city}"],
}
OFF_TOPIC = {
    "fr": ["Le conseil municipal de {city} vote le budget de la culture",
           "Membrane d'étanchéité : comment rénover une toiture terrasse à {city}",
           "Réseau social : une fuite de données touche des milliers d'abonnés à {city}",
           "Assainissement des finances publiques : {city} réduit sa dette"],
    "en": ["Quarterly earnings beat forecasts for a {city} software company",
           "Parking sensor recall affects cars sold in {city}",
           "Social network outage hits users in {city}",
           "A step forward for the {city} football club"],
    "pt": ["Rede social lança novo recurso em {city}", "Saneamento financeiro do clube de {city}"],
    "es": ["Red social de {city} pierde usuarios", "Saneamiento financiero del banco de {city}"],
}
FILLER = {
    "fr": "Selon les élus, les travaux débuteront au printemps et dureront dix-huit mois, pour {n} millions d'euros.",
    "en": "Officials said work will start in the spring and last eighteen months, with a budget of {n} million.",
    "pt": "Segundo a prefeitura, as obras começam na primavera e duram dezoito meses, com orçamento de {n} milhões.",
    "es": "Según el ayuntamiento, las obras empezarán en primavera y durarán dieciocho meses con {n} millones.",
}
CITIES = ["Toulouse", "Montpellier", "Agen", "Québec", "São Paulo", "Murcia", "Doha", "Jeddah", "Lyon", "Porto"]


def generate(count: int, seed: int) -> list[Item]:
    rng = random.Random(seed)
    items = []
    for n in range(count):
        lang = rng.choice(["fr", "fr", "en", "en", "pt", "es"])
        pool = ON_TOPIC if rng.random() < 0.35 else OFF_TOPIC
        city = rng.choice(CITIES)
        title = rng.choice(pool[lang]).format(city=city)
        summary = " ".join([rng.choice(pool[lang]).format(city=rng.choice(CITIES))] +
                           [FILLER[lang].format(n=rng.randint(2, 90))] * rng.randint(1, 2))
        items.append(Item(id=str(n), source="bench", kind=rng.choice(["news", "tender", "regulation"]),
                          title=title, summary=summary, lang=lang, country=rng.choice(["FR", "CA", "BR", "SA"])))
    return items


class NaiveTagger:
    """The obvious way: one compiled regular expression per rule, each searched in each field."""

    def __init__(self, tagger: Tagger, topics: list) -> None:
        self.rules: list[tuple[str, re.Pattern[str]]] = []
        for topic in topics:
            for by_lang in (topic.terms, topic.weak_terms, topic.exclude):
                for terms in by_lang.values():
                    self.rules += [(topic.id, re.compile(rf"(?<![a-z0-9]){phrase_pattern(t)}(?![a-z0-9])"))
                                   for t in terms]
        self.rules += [("profile", re.compile(rf"(?<![a-z0-9]){phrase_pattern(p)}(?![a-z0-9])"))
                       for p in profile_phrases(tagger.profiles)]

    def tag(self, item: Item) -> set[str]:
        found = set()
        for text in (fold(item.title).text, fold(item.summary).text):
            for owner, pattern in self.rules:
                if pattern.search(text):
                    found.add(owner)
        return found


def measure(label: str, run: Callable[[Item], object], items: list[Item]) -> float:
    """Items per second of `run` applied to each item in turn."""
    start = time.perf_counter()
    for item in items:
        run(item)
    return _report(label, items, time.perf_counter() - start)


def measure_batch(label: str, tagger: Tagger, items: list[Item]) -> float:
    """Items per second of `Tagger.tag_many` over all the items (as collect and retag call it)."""
    start = time.perf_counter()
    tagger.tag_many(items)
    return _report(label, items, time.perf_counter() - start)


def _report(label: str, items: list[Item], seconds: float) -> float:
    rate = len(items) / seconds
    print(f"{label:<34} {len(items):>8,} items in {seconds:7.2f} s = {rate:>10,.0f} items/s", flush=True)
    return rate


def build() -> tuple[Tagger, NaiveTagger]:
    from veille.collect.connectors import options_model
    from veille.config import load

    config = load(ROOT, options_model)
    tagger = Tagger.build(config.topics, config.members)
    return tagger, NaiveTagger(tagger, list(config.topics))


def measure_both(items: int, naive_items: int) -> tuple[float, float]:
    """Items per second for veille and for the naive loop (on the first `naive_items` of the same items)."""
    tagger, naive = build()
    generated = generate(items, 7)
    return (measure_batch("veille (Aho-Corasick + numpy)", tagger, generated),
            measure("naive (one regex per rule)", naive.tag, generated[:naive_items]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tagging", description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--naive-items", type=int, default=10_000,
                        help="the naive loop runs on the first N of the same items (it is about 100 times slower)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--members", type=int, metavar="N",
                        help="N member profiles: members.yaml's repeated, each copy with one keyword more (a network's "
                             "size; default: members.yaml as it is)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    from veille.collect.connectors import options_model
    from veille.config import load

    config = load(ROOT, options_model)
    topics, _ = load_topics(ROOT)
    members = config.members
    if args.members:
        members = [m.model_copy(update={"id": f"{m.id}-{n}", "keywords": [*m.keywords, f"motcle{n}"]})
                   for n in range(args.members // len(members) + 1) for m in members][:args.members]
    tagger = Tagger.build(config.topics, members)
    naive = NaiveTagger(tagger, list(topics))
    items = generate(args.items, args.seed)
    print(f"python {platform.python_version()} on {platform.machine()}, {len(config.topics)} topics, "
          f"{len(members)} member profiles, {len(naive.rules)} rules for the naive loop")
    tagged = measure_batch("veille (Aho-Corasick + numpy)", tagger, items)
    single = measure("veille, one item per call", tagger.tag, generate(min(args.items, 20_000), args.seed + 1))
    baseline = measure("naive (one regex per rule)", naive.tag, items[:args.naive_items])
    on_topic = sum(1 for i in items if i.topics) / len(items)
    print(f"speed-up {tagged / baseline:.1f}x; {on_topic:.0%} of items got a topic; target 50,000 items/s: "
          f"{'met' if tagged >= 50_000 else 'not met'}")
    if args.json:
        args.json.write_text(json.dumps({"items": len(items), "veille_items_per_s": round(tagged),
                                         "veille_single_items_per_s": round(single),
                                         "naive_items": args.naive_items, "naive_items_per_s": round(baseline),
                                         "speedup": round(tagged / baseline, 1)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
