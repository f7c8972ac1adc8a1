"""Accent- and case-insensitive, word-bounded, plural-tolerant phrase matching (pure functions)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Folded:
    """A text folded for matching: same length as the original, so spans are shared."""

    original: str
    text: str

    def original_slice(self, start: int, end: int) -> str:
        return self.original[start:end]


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    out = []
    for part in unicodedata.normalize("NFKD", char):
        if unicodedata.combining(part):
            continue
        for low in part.casefold():
            out.append(low if low.isalnum() else " ")
    return "".join(out)


def _table(limit: int = 0x3000) -> dict[int, str]:
    """One character for one character: lower case, accents removed, punctuation to spaces."""
    table = {}
    for code in range(limit):
        char = chr(code)
        folded = _fold_char(char)
        single = folded[:1] or " "  # ß → s, ﬁ → f: rare, and terms fold the same way
        if single != char:
            table[code] = single
    return table


_TABLE = _table()
# Fast path: most texts are Latin-1 once a few typographic characters are set aside; bytes.translate
# folds them about ten times faster than str.translate, with the same result.
_BYTES = bytes(ord(_TABLE.get(code, chr(code))) if ord(_TABLE.get(code, chr(code))) < 256 else code
               for code in range(256))
_ASCII_BYTES = bytes(b if b < 128 else ord("?") for b in _BYTES)  # then beyond ASCII: "?"
_WIDER = "".join(chr(c) for c in range(256) if ord(_TABLE.get(c, chr(c))) >= 256)  # µ folds to Greek μ
_TYPOGRAPHY = {chr(code): _TABLE[code] for code in (0x2019, 0x2018, 0x201C, 0x201D, 0x2013, 0x2014, 0x2026, 0x20AC,
                                                     0x202F, 0x2009, 0x2022, 0x00A0)}


def _fold_text(text: str) -> str:
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        for char, folded in _TYPOGRAPHY.items():
            if char in text:
                text = text.replace(char, folded)
        try:
            raw = text.encode("latin-1")
        except UnicodeEncodeError:
            return text.translate(_TABLE)
    if _WIDER and any(char in text for char in _WIDER):
        return text.translate(_TABLE)
    return raw.translate(_BYTES).decode("latin-1")


def fold(text: str) -> Folded:
    """Return `text` lower-cased, without accents, every non-alphanumeric character a space (same length)."""
    return Folded(text, _fold_text(text))


def fold_ascii(text: str) -> bytes:
    """`fold(text).text` as ASCII bytes, one byte per character, every character beyond ASCII as "?"
    (which no folded text otherwise contains: like the character it replaces, it is not a space)."""
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return _fold_text(text).encode("ascii", "replace")
    if _WIDER and any(char in text for char in _WIDER):
        return text.translate(_TABLE).encode("ascii", "replace")
    return raw.translate(_ASCII_BYTES)


def fold_phrase(phrase: str) -> str:
    return " ".join(fold(phrase).text.split())


def _word_pattern(word: str) -> str:
    """Return a regex for `word` that also accepts its usual FR/EN/PT/ES plural or singular."""
    if len(word) <= 2 or word.isdigit():
        return re.escape(word)
    if word.endswith(("aux", "eux")) and len(word) > 4:
        return re.escape(word[:-1]) + "[xl]?"
    if word.endswith("coes"):
        return re.escape(word[:-4]) + "(?:coes|cao)"
    if word.endswith("cao"):
        return re.escape(word[:-3]) + "(?:cao|coes)"
    if word.endswith("al") and len(word) > 4:
        return re.escape(word[:-2]) + "(?:al|aux|ais|ales)"
    if word.endswith("ies") and len(word) > 5:
        return re.escape(word[:-3]) + "(?:y|ies)"
    if word.endswith("y") and len(word) > 4 and word[-2] not in "aeiou":
        return re.escape(word[:-1]) + "(?:y|ies)"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 4:
        word = word[:-1]
    if word.endswith("e"):
        return re.escape(word) + "s?"  # "boue" must not match "bouees" (folded "bouées")
    if word.endswith(("au", "eu")):
        return re.escape(word) + "[xs]?"
    return re.escape(word) + "(?:s|es)?"


def word_forms(word: str) -> set[str]:
    """The usual FR/EN/PT/ES singular and plural forms of a folded word (the forms `_word_pattern` accepts)."""
    forms = {word}
    if len(word) <= 2 or word.isdigit():
        return forms
    if word.endswith(("aux", "eux")):
        return {word, word[:-1], word[:-1] + "l"} if len(word) > 4 else {word, word[:-1]}
    if word.endswith("coes"):
        return {word, word[:-4] + "cao"}
    if word.endswith("cao"):
        return {word, word[:-3] + "coes"}
    if word.endswith("al") and len(word) > 4:
        return {word, word[:-2] + "aux", word[:-2] + "ais", word[:-2] + "ales"}
    if word.endswith("ies") and len(word) > 5:
        return {word, word[:-3] + "y"}
    if word.endswith("y") and len(word) > 4 and word[-2] not in "aeiou":
        return {word, word[:-1] + "ies"}
    stem = word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 4 else word
    if stem.endswith("e"):
        return {stem, stem + "s"}
    if stem.endswith(("au", "eu")):
        return {stem, stem + "x", stem + "s"}
    return {stem, stem + "s", stem + "es"}


def phrase_forms(phrase: str, limit: int = 64) -> set[str]:
    """Every folded spelling of a phrase with each word in its singular or plural form."""
    out = [""]
    for word in fold_phrase(phrase).split():
        out = [f"{head} {form}".strip() for head in out for form in sorted(word_forms(word))][:limit]
    return {o for o in out if o}


def phrase_pattern(phrase: str) -> str:
    words = fold_phrase(phrase).split()
    return " ".join(_word_pattern(w) for w in words)


@lru_cache(maxsize=512)
def compile_phrases(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """Return one regex matching any of `phrases` (longest first), word-bounded on folded text."""
    patterns = sorted({phrase_pattern(p) for p in phrases if fold_phrase(p)}, key=len, reverse=True)
    if not patterns:
        return None
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(patterns) + r")(?![a-z0-9])")


