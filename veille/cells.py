"""Text made safe for the files the project writes: spreadsheet cells that cannot run, XML that stays valid.

Shared by the CSV and XLSX exports, the digest's `items.csv` and the Atom feed (pure functions).
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: what makes a cell a formula
# what XML 1.0 cannot carry (and so neither XLSX nor Atom): C0 controls but tab and line ends, surrogates,
# U+FFFE and U+FFFF
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def neutralise(value: str) -> str:
    """The cell text as data: a leading `'` when a spreadsheet would read it as a formula (empty stays empty)."""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def xml_safe(text: str) -> str:
    """The text without the characters XML 1.0 refuses (dropped, not the whole document failing)."""
    return _NOT_XML.sub("", text)
