"""Keys that identify the same tender or story across notices and sources (pure functions).

A notice, its corrigenda and its award share an identifier (TED related notices, BOAMP earlier notice,
eForms procedure id); the same call published on TED and BOAMP shares its buyer and title; the same
story in two feeds shares its canonical URL, or has a near-identical text and an alike title: a SimHash
signature whose 16-bit bands index candidates, so that finding them never compares an item with the whole
archive. Text most items of a batch share (a feed's boilerplate) is left out of the signatures.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence

import numpy as np

from veille.models import Item
from veille.text import fold_phrase

_TED_TITLE = re.compile(r"^[^–]+ – [^–]+ – (.+)$")  # "Country – CPV label – buyer's own title"
MIN_TITLE = 12


def title_core(title: str) -> str:
    """The buyer's own title: TED prefixes it with the country and a CPV label."""
    m = _TED_TITLE.match(title)
    return m.group(1) if m else title


def link_keys(item: Item) -> list[str]:
    """Return the keys under which notices of one tender, or copies of one story, meet exactly:
    identifiers, buyer + title, canonical URL."""
    keys = list(dict.fromkeys(item.related))
    if item.url:
        keys.append(f"url:{item.url}")
    if item.kind == "tender" and item.buyer:
        core = fold_phrase(title_core(item.title))
        if len(core) >= MIN_TITLE:
            keys.append(f"buyer-title:{fold_phrase(item.buyer)}|{core}")
    return keys


# --- near-duplicate stories: SimHash with locality-sensitive bands ------------------------------------

BITS = 64
BANDS = 4  # 4 bands of 16 bits: two signatures within MAX_DISTANCE bits share at least one band
MAX_DISTANCE = 3
MIN_WORDS = 8
MIN_SHINGLES = MIN_WORDS - 2
# a word 3-gram found in this share of a batch's items (and in 3 at least) is boilerplate, not the story
BOILERPLATE_SHARE = 0.2
BOILERPLATE_MIN_ITEMS = 3
MIN_TITLE_WORDS = 3  # a title contained in another is the same title only from this many words


def shingles(text: str) -> list[int]:
    """The hashes of a text's word 3-grams (folded), in order: each its UTF-8 bytes' CRC-32 in the high 32 bits,
    their CRC-32 seeded with 0x9E3779B9 in the low ones (stable across runs, unlike hash())."""
    words = fold_phrase(text).split()
    data = [f"{a} {b} {c}".encode() for a, b, c in zip(words, words[1:], words[2:], strict=False)]
    return [(high << 32) | low for high, low in zip(map(zlib.crc32, data), map(_seeded_crc32, data), strict=True)]


def _seeded_crc32(data: bytes) -> int:
    return zlib.crc32(data, 0x9E3779B9)


def signature_of(hashes: Sequence[int]) -> int | None:
    """The 64-bit SimHash of shingle hashes: each bit set where most shingles set it (None when too few)."""
    if len(hashes) < MIN_SHINGLES:
        return None
    ones = np.unpackbits(np.array(hashes, dtype="<u8").view(np.uint8), bitorder="little").reshape(-1, BITS).sum(axis=0)
    majority = np.packbits(2 * ones > len(hashes), bitorder="little")  # 8 bytes, lowest bit first
    return int.from_bytes(majority.tobytes(), "little")


def simhash(text: str) -> int | None:
    """Return the 64-bit SimHash of a text's word 3-grams (folded), or None for a text too short to compare."""
    return signature_of(shingles(text))


def band_keys(signature: int | None) -> list[str]:
    """The keys under which candidate near-duplicates meet (one per 16-bit band): an index, not a verdict."""
    if signature is None:
        return []
    width = BITS // BANDS
    return [f"sim:{b}:{(signature >> (b * width)) & ((1 << width) - 1):04x}" for b in range(BANDS)]


def near(a: int, b: int) -> bool:
    """Whether two signatures differ in at most MAX_DISTANCE bits."""
    return bin(a ^ b).count("1") <= MAX_DISTANCE


def title_words(title: str) -> str:
    """A title as compared between copies of a story: the buyer's own title, folded."""
    return fold_phrase(title_core(title))


def alike_titles(a: str, b: str) -> bool:
    """Whether two folded titles name one story: equal, or one holds the other whole (a site's prefix or
    suffix) and that one has MIN_TITLE_WORDS words at least."""
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    return len(shorter.split()) >= MIN_TITLE_WORDS and f" {shorter} " in f" {longer} "


def same_story(signature: int, title: str, other: int, other_title: str) -> bool:
    """Two items are copies of one story when their texts are near-identical and their titles alike: items
    with different titles stay apart, however alike their summaries (a feed's boilerplate)."""
    return near(signature, other) and alike_titles(title_words(title), title_words(other_title))


def story_text(item: Item) -> str:
    return f"{title_core(item.title)} {item.summary}"


def without_boilerplate(batch: Sequence[list[int]]) -> list[list[int]]:
    """Each item's shingles minus those a batch's items share widely (the same description on every item of a
    feed, "Lire la suite…"): the signature is then made of what tells the stories apart."""
    seen = Counter(h for hashes in batch for h in set(hashes))
    limit = max(BOILERPLATE_MIN_ITEMS, BOILERPLATE_SHARE * len(batch))
    common = {h for h, n in seen.items() if n >= limit}
    return [[h for h in hashes if h not in common] for hashes in batch] if common else list(batch)


def link_entries(items: Sequence[Item]) -> list[tuple[Item, list[str], list[str], int | None]]:
    """(item, exact link keys, SimHash band keys, signature) of each item, for the store to cluster.

    Exact keys (identifiers, URL, buyer + title) link directly; bands only propose candidates, kept when the
    store's `is_near` (`same_story`) confirms them. The items are one source's batch: what most of them share
    is left out of their signatures (`without_boilerplate`)."""
    kept = without_boilerplate([shingles(story_text(item)) for item in items])
    entries = []
    for item, hashes in zip(items, kept, strict=True):
        signature = signature_of(hashes)
        entries.append((item, link_keys(item), band_keys(signature), signature))
    return entries
