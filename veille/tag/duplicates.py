"""Keys that identify the same tender or story across notices and sources (pure functions).

A notice, its corrigenda and its award share an identifier (TED related notices, BOAMP earlier notice,
eForms procedure id); the same call published on TED and BOAMP shares its buyer and title; the same
story in two feeds shares its canonical URL, or has a near-identical text: a SimHash signature whose
16-bit bands index candidates, so that finding them never compares an item with the whole archive.
"""

from __future__ import annotations

import re
import zlib
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


def _shingle_hash(shingle: str) -> int:
    data = shingle.encode()
    return (zlib.crc32(data) << 32) | zlib.crc32(data, 0x9E3779B9)  # stable across runs, unlike hash()


def simhash(text: str) -> int | None:
    """Return the 64-bit SimHash of a text's word 3-grams (folded), or None for a text too short to compare."""
    words = fold_phrase(text).split()
    if len(words) < MIN_WORDS:
        return None
    hashes = np.array([_shingle_hash(" ".join(words[i:i + 3])) for i in range(len(words) - 2)], dtype="<u8")
    ones = np.unpackbits(hashes.view(np.uint8), bitorder="little").reshape(-1, BITS).sum(axis=0)
    return sum(1 << bit for bit in range(BITS) if 2 * int(ones[bit]) > len(hashes))  # set where most shingles set it


def band_keys(signature: int | None) -> list[str]:
    """The keys under which candidate near-duplicates meet (one per 16-bit band): an index, not a verdict."""
    if signature is None:
        return []
    width = BITS // BANDS
    return [f"sim:{b}:{(signature >> (b * width)) & ((1 << width) - 1):04x}" for b in range(BANDS)]


def near(a: int, b: int) -> bool:
    """Whether two signatures differ in at most MAX_DISTANCE bits."""
    return bin(a ^ b).count("1") <= MAX_DISTANCE


def story_text(item: Item) -> str:
    return f"{title_core(item.title)} {item.summary}"


def link_entries(items: Sequence[Item]) -> list[tuple[Item, list[str], list[str], int | None]]:
    """(item, exact link keys, SimHash band keys, signature) of each item, for the store to cluster.

    Exact keys (identifiers, URL, buyer + title) link directly; bands only propose candidates, kept when their
    signatures are `near` (near-identical text)."""
    entries = []
    for item in items:
        signature = simhash(story_text(item))
        entries.append((item, link_keys(item), band_keys(signature), signature))
    return entries
