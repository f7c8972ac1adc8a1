"""Keys that identify the same tender across notices and sources (pure functions).

A notice, its corrigenda and its award share an identifier (TED related notices, BOAMP earlier notice,
eForms procedure id); the same call published on TED and BOAMP shares its buyer and title.
"""

from __future__ import annotations

import re

from veille.models import Item
from veille.text import fold_phrase

_TED_TITLE = re.compile(r"^[^–]+ – [^–]+ – (.+)$")  # "Country – CPV label – buyer's own title"
MIN_TITLE = 12


def title_core(title: str) -> str:
    """The buyer's own title: TED prefixes it with the country and a CPV label."""
    m = _TED_TITLE.match(title)
    return m.group(1) if m else title


def link_keys(item: Item) -> list[str]:
    """Return the keys under which notices of the same tender meet (identifiers, buyer + title)."""
    keys = list(dict.fromkeys(item.related))
    if item.kind == "tender" and item.buyer:
        core = fold_phrase(title_core(item.title))
        if len(core) >= MIN_TITLE:
            keys.append(f"buyer-title:{fold_phrase(item.buyer)}|{core}")
    return keys
