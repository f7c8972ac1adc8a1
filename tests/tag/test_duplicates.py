"""Duplicates: the same story from several sources is one cluster, whatever the order of arrival."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from tests.conftest import write_config
from veille import pipeline
from veille.models import Item
from veille.tag.duplicates import band_keys, link_entries, near, same_story, simhash

STORY = ("Toulouse Métropole teste l'ultrafiltration sur fibres creuses pour son usine d'eau potable : "
         "un pilote traitera 200 m3/h d'eau brute de la Garonne pendant dix-huit mois")


def _items() -> list[Item]:
    when = datetime(2026, 11, 10, 8, tzinfo=UTC)
    return [
        Item(id="a-1", source="actu", kind="news", title="Toulouse teste l'ultrafiltration", summary=STORY,
             url="https://actu.example.org/uf", published_at=when, lang="fr"),
        # the same text, other punctuation and link: a near-duplicate
        Item(id="b-1", source="hydroplus", kind="news", title="Toulouse teste l’ultrafiltration",
             summary=STORY.replace(" : ", " — ") + ".", url="https://hydroplus.example.org/uf", published_at=when,
             lang="fr"),
        # another site's copy with the first one's canonical link: an exact duplicate
        Item(id="c-1", source="agregateur", kind="news", title="Ultrafiltration à Toulouse", summary="Reprise.",
             url="https://actu.example.org/uf", published_at=when, lang="fr"),
        # a different story on the same subject
        Item(id="d-1", source="actu", kind="news", title="Toulouse lance un appel d'offres pour Clairfont",
             summary="La rénovation de l'usine de production d'eau potable de Clairfont sera attribuée en 2027 "
                     "après une procédure de conception-réalisation.",
             url="https://actu.example.org/clairfont", published_at=when, lang="fr"),
    ]


def test_simhash_is_stable_and_tolerant():
    a, b = simhash(STORY), simhash(STORY.replace(" : ", " — ") + ".")
    assert a == simhash(STORY)  # no per-process hash seed
    assert a is not None and b is not None and near(a, b)
    other = simhash("La rénovation de l'usine de production d'eau potable de Clairfont sera attribuée en 2027")
    assert other is not None and not near(a, other)
    assert simhash("trop court") is None and band_keys(None) == []
    assert len(band_keys(a)) == 4


def test_shingles_and_signatures_are_what_their_definition_gives():
    """The signatures stored by earlier versions stay comparable: each shingle hashed as defined (two CRC-32 of
    its folded words' UTF-8), each signature bit the majority of its shingles' bits, on texts of every length."""
    import random
    import zlib

    from veille.tag.duplicates import BITS, MIN_SHINGLES, shingles, signature_of
    from veille.text import fold_phrase

    rng = random.Random(3)
    vocabulary = [*STORY.split(), "Ação", "dessalinização", "ÉPURATION", "l'eau", "—", "2027", "ü", "日本"]
    texts = [STORY, "", "un", "deux mots", *(" ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 70)))
                                           for _ in range(300))]
    for text in texts:
        words = fold_phrase(text).split()
        grams = [" ".join(words[i:i + 3]).encode() for i in range(len(words) - 2)]
        expected = [(zlib.crc32(g) << 32) | zlib.crc32(g, 0x9E3779B9) for g in grams]
        assert shingles(text) == expected, text
        majority = None if len(expected) < MIN_SHINGLES else sum(
            1 << bit for bit in range(BITS) if 2 * sum(h >> bit & 1 for h in expected) > len(expected))
        assert signature_of(expected) == majority, text


def test_clusters_do_not_depend_on_arrival_order(tmp_path):
    """Every order of arrival gives the same clusters, and the same cluster ids."""
    results = set()
    for n, order in enumerate(itertools.permutations(range(4))):
        if n % 4:  # 6 of the 24 orders are enough to vary who comes first
            continue
        directory = write_config(tmp_path / f"o{n}", [{"name": "x", "kind": "news", "type": "feed",
                                                       "url": "https://x.example.org/f"}])
        ctx = pipeline.open_context(directory)
        try:
            items = _items()
            for i in order:
                item = items[i]
                item.collected_at = item.published_at
                ctx.store.upsert_items([item])
                ctx.store.link_all(link_entries([item]), same_story)
            clusters = frozenset((i.id, i.cluster_id) for i in ctx.store.items())
        finally:
            ctx.close()
        results.add(clusters)
    assert len(results) == 1
    [clusters] = results
    by_id = dict(clusters)
    assert by_id["a-1"] == by_id["b-1"] == by_id["c-1"] == "a-1"
    assert by_id["d-1"] is None or by_id["d-1"] == "d-1"
