"""Tagging many items at once gives exactly what tagging them one by one gives."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import MEMBERS, SHARED
from veille import tag as tag_module
from veille.config import load_topics
from veille.models import Item, Member
from veille.tag import Tagger
from veille.tag.batch import _greedy

TOPICS, _ = load_topics(Path(__file__).parent)  # no topics.yaml there: the shipped taxonomy
PROFILES = [Member(**m) for m in MEMBERS]
SENTENCES = [
    ("Station d'épuration : un bioréacteur à membranes pour Lavaur", "Les boues seront déshydratées.", "fr"),
    ("Membrane d'étanchéité pour toiture terrasse", "EPDM, pose rapide, membrane garantie dix ans.", "fr"),
    ("Reverse osmosis desalination plant awarded (SWRO)", "The RO trains use UF pre-treatment.", "en"),
    ("Réseau social : fuite de données", "Un réseau de fuite, sans eau.", "fr"),
    ("Estação de tratamento de esgoto com ultrafiltração", "ETE de São Paulo, reúso de efluentes.", "pt"),
    ("Depuradora de aguas residuales", "Saneamiento financiero del banco; saneamiento del río.", "es"),
    ("PFAS in drinking water: new EU limits", "Forever chemicals, PFOS and PFOA; drinking water directive.", None),
    ("Un capteur de biofilm pour les canalisations d'eau potable", "capteur, capteurs, Capteur", "fr"),
    ("Treated wastewater reuse for irrigation", "Treated wastewater and wastewater treatment plant upgrades.", "en"),
    ("", "", None),
]


def _items() -> list[Item]:
    rng = random.Random(5)
    items = []
    for n in range(120):
        title, summary, lang = rng.choice(SENTENCES)
        other = rng.choice(SENTENCES)
        items.append(Item(id=str(n), source="s", kind=rng.choice(["news", "tender", "regulation"]),
                          title=title, summary=f"{summary} {other[1]}" if rng.random() < 0.5 else summary,
                          lang=lang, country=rng.choice(["FR", "BR", None]),
                          cpv=["45252127"] if rng.random() < 0.1 else []))
    dev = SHARED / "eval" / "dev.jsonl"
    if dev.is_file():  # real labelled items, read in place
        for line in dev.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            items.append(Item(id=row["id"], source="dev", kind=row.get("kind") or "news", title=row.get("title") or "",
                              summary=row.get("summary") or "", lang=row.get("lang"), country=row.get("country"),
                              cpv=row.get("cpv") or []))
    return items


def _view(item: Item) -> tuple:
    return (item.id, sorted((t, v.score, v.evidence) for t, v in item.topics.items()),
            sorted((m, v.score, v.reasons) for m, v in item.members.items()))


@pytest.mark.parametrize("batch", [1, 3, 2_000])
def test_batch_equals_one_by_one(batch, monkeypatch):
    tagger = Tagger.build(TOPICS, PROFILES)
    items = _items()
    implied = [("wastewater",) if n % 17 == 0 else () for n in range(len(items))]
    alone = [tagger.tag(copy.deepcopy(i), implied[n]) for n, i in enumerate(items)]
    monkeypatch.setattr(tag_module, "BATCH", batch)
    together = copy.deepcopy(items)
    tagger.tag_many(together, implied)
    assert [_view(i) for i in together] == [_view(i) for i in alone]
    assert any(i.topics for i in together) and any(i.members for i in together)


def _greedy_by_hand(groups, starts, ends, keys):
    kept = []
    for g in sorted(set(groups)):
        chosen = []
        for n in sorted((n for n in range(len(groups)) if groups[n] == g), key=lambda n: (keys[n], n)):
            if all(ends[n] <= starts[k] or ends[k] <= starts[n] for k in chosen):
                chosen.append(n)
        kept += chosen
    return kept


def test_vectorised_greedy_matches_the_sequential_one():
    rng = np.random.default_rng(4)
    for _ in range(200):
        size = int(rng.integers(1, 30))
        group = rng.integers(0, 4, size)
        start = rng.integers(0, 40, size)
        end = start + rng.integers(1, 12, size)
        key = -(end - start)
        order = np.lexsort((np.arange(size), key, group))
        assert _greedy(group, start, end, order).tolist() == _greedy_by_hand(group.tolist(), start.tolist(),
                                                                           end.tolist(), key.tolist())
