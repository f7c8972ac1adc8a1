"""A large synthetic archive (items with topics and member matches) written straight into a store."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from veille.models import Item, MemberMatch, TopicTag
from veille.store import Store

TOPICS = ["membranes", "desalination", "sensors", "drinking_water", "wastewater", "water_reuse", "micropollutants",
          "networks", "industrial_water", "algae"]
MEMBERS = ["polymem", "aquasource", "loira", "neosens", "lisbp", "lgc", "ifts"]
DOMAIN = [
    "station", "épuration", "membrane", "ultrafiltration", "eau", "potable", "réseau", "capteur", "boues",
    "dessalement", "osmose", "inverse", "reuse", "PFAS", "appel", "offres", "travaux", "fourniture", "marché",
    "commune", "syndicat", "métropole", "pilote", "usine", "desalination", "wastewater", "sensor", "leak",
    "estação", "tratamento", "esgoto", "depuradora", "saneamiento", "microplastics", "nanofiltration", "biofilm",
]


def vocabulary(rng: random.Random, size: int = 20_000) -> tuple[list[str], list[float]]:
    """Words and cumulative weights following Zipf's law, as in real text: a few words are everywhere,
    most are rare; the domain words sit among the frequent ones."""
    letters = "abcdefghijklmnopqrstuvwxyzéèàç"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 11))) for _ in range(size)]
    for rank, word in zip(range(20, 20 + 40 * len(DOMAIN), 40), DOMAIN, strict=False):
        words[rank] = word
    weights, total = [], 0.0
    for rank in range(1, size + 1):
        total += 1.0 / rank
        weights.append(total)
    return words, weights


def fill(store: Store, count: int, weeks: int = 50, seed: int = 11, batch: int = 20_000) -> datetime:
    """Write `count` items spread evenly over `weeks` weeks ending on Sunday 2026-11-15; return that end."""
    rng = random.Random(seed)
    words, weights = vocabulary(rng)

    def text(low: int, high: int) -> str:
        return " ".join(rng.choices(words, cum_weights=weights, k=rng.randint(low, high)))

    end = datetime(2026, 11, 15, 23, tzinfo=UTC)
    span = timedelta(weeks=weeks).total_seconds()
    items: list[Item] = []
    for n in range(count):
        when = end - timedelta(seconds=rng.random() * span)
        kind = rng.choice(["news", "news", "news", "tender", "regulation", "funding"])
        title = text(6, 12).capitalize()
        item = Item(id=f"bench-{n:07d}", source=f"source-{n % 500}", kind=kind, title=title,
                    summary=text(20, 40),
                    url=f"https://bench.example.org/{n}", lang="fr", country=rng.choice(["FR", "BR", "CA", "SA"]),
                    published_at=when, collected_at=when,
                    deadline_at=when + timedelta(days=rng.randint(5, 60)) if kind == "tender" else None,
                    cpv=["45252127"] if kind == "tender" and rng.random() < 0.5 else [])
        for topic in rng.sample(TOPICS, rng.choice([0, 0, 1, 1, 2])):
            item.topics[topic] = TopicTag(round(rng.uniform(1, 6), 2), [f"'{topic}' in title"])
        for member in rng.sample(MEMBERS, rng.choice([0, 0, 1, 2])) if item.topics else []:
            item.members[member] = MemberMatch(round(rng.uniform(1, 8), 2), ["topic: generated"])
        items.append(item)
        if len(items) >= batch:
            store.insert_new(items)
            items = []
    if items:
        store.insert_new(items)
    return end
