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


@dataclass(frozen=True)
class _Plural:
    """One singular/plural rule: a word ending in one of `suffixes` is `stem + ending` for each of `endings`,
    `stem` being the word without its last `strip` characters (and the bare stem too when `optional`)."""

    suffixes: tuple[str, ...]
    endings: tuple[str, ...]
    strip: int = 0
    longer_than: int = 0  # the rule applies to words of more characters only
    optional: bool = False
    consonant_before: bool = False  # the suffix follows a consonant
    in_pattern: bool = True  # False: `word_forms` applies it, `_word_pattern` goes on to the next rules

    def applies(self, word: str, pattern: bool) -> bool:
        """Return whether the rule covers `word` (for `_word_pattern` when `pattern`, else for `word_forms`)."""
        return (word.endswith(self.suffixes) and len(word) > self.longer_than and (self.in_pattern or not pattern)
                and not (self.consonant_before and word[-2] in "aeiou"))

    def forms(self, stem: str) -> set[str]:
        """Return the forms of `stem` under this rule."""
        forms = {stem + ending for ending in self.endings}
        if self.optional:
            forms.add(stem)
        return forms

    def pattern(self, stem: str) -> str:
        """Return a regex accepting exactly `self.forms(stem)`."""
        if all(len(ending) == 1 for ending in self.endings):
            tail = self.endings[0] if len(self.endings) == 1 else f"[{''.join(self.endings)}]"
        else:
            tail = f"(?:{'|'.join(self.endings)})"
        return re.escape(stem) + tail + ("?" if self.optional else "")


# The usual FR/EN/PT/ES plurals, one table for `word_forms` and `_word_pattern`: the first rule that
# applies to the word, else the first of _SINGULAR that applies to its singular (a final "s" dropped)
_PLURAL = (
    _Plural(("aux", "eux"), ("x", "l"), strip=1, longer_than=4, optional=True),
    # short ones ("eaux", "feux"): the forms drop the "x", the regex has always used the rules below instead
    _Plural(("aux", "eux"), ("x",), strip=1, optional=True, in_pattern=False),
    _Plural(("coes",), ("coes", "cao"), strip=4),
    _Plural(("cao",), ("cao", "coes"), strip=3),
    _Plural(("al",), ("al", "aux", "ais", "ales"), strip=2, longer_than=4),
    _Plural(("ies",), ("y", "ies"), strip=3, longer_than=5),
    _Plural(("y",), ("y", "ies"), strip=1, longer_than=4, consonant_before=True),
)
_SINGULAR = (
    _Plural(("e",), ("s",), optional=True),  # "boue" must not match "bouees" (folded "bouées")
    _Plural(("au", "eu"), ("x", "s"), optional=True),
    _Plural(("",), ("s", "es"), optional=True),
)


def _plural_rule(word: str, pattern: bool) -> tuple[str, _Plural]:
    """Return the stem of a folded word (longer than 2 characters, not a number) and its plural rule."""
    for rule in _PLURAL:
        if word.endswith(rule.suffixes) and rule.applies(word, pattern):  # endswith first: most words go on
            return word[:len(word) - rule.strip], rule
    stem = word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 4 else word
    for rule in _SINGULAR:  # the last one applies to every word
        if rule.applies(stem, pattern):
            break
    return stem, rule


def _word_pattern(word: str) -> str:
    """Return a regex for `word` that also accepts its usual FR/EN/PT/ES plural or singular."""
    if len(word) <= 2 or word.isdigit():
        return re.escape(word)
    stem, rule = _plural_rule(word, pattern=True)
    return rule.pattern(stem)


def phrase_key(phrase: str) -> str:
    """One key for a phrase's spellings: folded (case, accents, apostrophes), each word by its stem, so that its
    singular and plural forms give the same key ("Stations de mesure", "station de mesure")."""
    return " ".join(word if len(word) <= 2 or word.isdigit() else _plural_rule(word, pattern=False)[0]
                    for word in fold_phrase(phrase).split())


def word_forms(word: str) -> set[str]:
    """Return the usual FR/EN/PT/ES singular and plural forms of a folded word (see `_PLURAL`)."""
    if len(word) <= 2 or word.isdigit():
        return {word}
    stem, rule = _plural_rule(word, pattern=False)
    return rule.forms(stem)


def phrase_forms(phrase: str, limit: int = 64) -> set[str]:
    """Every folded spelling of a phrase with each word in its singular or plural form."""
    out = [""]
    for word in fold_phrase(phrase).split():
        forms = sorted(word_forms(word))
        out = [f"{head} {form}".strip() for head in out for form in forms][:limit]
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


