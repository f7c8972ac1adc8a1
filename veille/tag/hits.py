"""Every rule hit of a batch of items, as flat numpy arrays: the matcher's rules compiled to arrays once,
then per batch the texts joined and scanned once, each match expanded to its pattern's rules (exact
abbreviations checked), hits across the title/summary boundary and rules of another language dropped.

`batch.py` applies the other rules to these arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

import numpy as np

from veille.tag.matcher import EXCLUDE, PHRASE, STRONG, WEAK, Matcher, Rule

SEPARATOR = "  "  # between title and summary, and between items: no phrase runs across it
KIND_CODE = {STRONG: 0, WEAK: 1, EXCLUDE: 2, PHRASE: 3}


@dataclass(frozen=True)
class Compiled:
    """The matcher's rules as flat arrays: pattern p owns rules ptr[p]:ptr[p + 1]."""

    ptr: np.ndarray
    kind: np.ndarray
    owner: np.ndarray  # topic index, or len(topics) + phrase index
    lang: np.ndarray  # 0: any, 1: en, 2…: other languages
    has_exact: np.ndarray  # patterns of case-sensitive abbreviations
    topics: tuple[str, ...]
    phrases: tuple[str, ...]
    lang_codes: dict[str, int]


def compile_rules(matcher: Matcher, topics: Sequence[str]) -> Compiled:
    """Return the matcher's rules as flat arrays, owners and languages numbered."""
    topic_index = {t: n for n, t in enumerate(topics)}
    phrases = _phrase_owners(matcher)
    phrase_index = {p: len(topics) + n for n, p in enumerate(phrases)}
    langs = {"any": 0, "en": 1}
    ptr, kind, owner, lang = _flat_rules(matcher.rules, topic_index, phrase_index, langs)
    for forms in matcher.exact:
        for rules in (forms or {}).values():
            for rule in rules:
                langs.setdefault(rule.lang, len(langs))
    return Compiled(np.array(ptr, dtype=np.int64), np.array(kind, dtype=np.int64), np.array(owner, dtype=np.int64),
                    np.array(lang, dtype=np.int64), np.array([f is not None for f in matcher.exact], dtype=bool),
                    tuple(topics), tuple(phrases), langs)


def _phrase_owners(matcher: Matcher) -> list[str]:
    """Return the profile phrases of the matcher's rules (exact ones included), sorted."""
    return sorted({r.owner for rules in matcher.rules for r in rules if r.kind == PHRASE} |
                  {r.owner for forms in matcher.exact if forms for rules in forms.values() for r in rules
                   if r.kind == PHRASE})


def _flat_rules(patterns: Sequence[tuple[Rule, ...]], topic_index: dict[str, int], phrase_index: dict[str, int],
                langs: dict[str, int]) -> tuple[list[int], list[int], list[int], list[int]]:
    """Return (ptr, kind, owner, lang) of every pattern's rules, flat; new languages are numbered into `langs`."""
    ptr, kind, owner, lang = [0], [], [], []
    for rules in patterns:
        for rule in rules:
            kind.append(KIND_CODE[rule.kind])
            owner.append(phrase_index[rule.owner] if rule.kind == PHRASE else topic_index[rule.owner])
            lang.append(langs.setdefault(rule.lang, len(langs)))
        ptr.append(len(kind))
    return ptr, kind, owner, lang


@dataclass(frozen=True)
class Hits:
    """Rule hits, flat: hit k is a rule of kind `kind[k]` (KIND_CODE) and owner `owner[k]` (as in `Compiled`)
    in field `field[k]` (0: title, 1: summary) of item `item[k]`, at [start[k], end[k]) of `text`."""

    text: str  # the items' original texts, joined
    item: np.ndarray
    field: np.ndarray
    start: np.ndarray
    end: np.ndarray
    kind: np.ndarray
    owner: np.ndarray


class _Raw(NamedTuple):
    """Rule hits before the field and language checks (same arrays as `Hits`, with the rule's language)."""

    item: np.ndarray
    start: np.ndarray
    end: np.ndarray
    kind: np.ndarray
    owner: np.ndarray
    lang: np.ndarray


def find_hits(compiled: Compiled, matcher: Matcher, titles: Sequence[str], summaries: Sequence[str],
              langs: Sequence[str | None], languages: frozenset[str]) -> Hits | None:
    """Return the hits of every rule in the items' titles and summaries, in each item's language (None when
    the automaton finds nothing)."""
    original, block, title_end = _join(titles, summaries)
    found = matcher.scan_raw(original)
    if not found:
        return None
    raw = _expand(compiled, matcher, found, original, block)
    return _in_field_and_language(compiled, original, raw, title_end, langs, languages)


def _join(titles: Sequence[str], summaries: Sequence[str]) -> tuple[str, np.ndarray, np.ndarray]:
    """Return the texts joined as " title  summary " blocks (SEPARATOR between blocks too), where each block
    starts (and, last, where the text ends) and where each title ends."""
    count = len(titles)
    title_length = np.fromiter(map(len, titles), dtype=np.int64, count=count)
    summary_length = np.fromiter(map(len, summaries), dtype=np.int64, count=count)
    block = np.zeros(count + 1, dtype=np.int64)  # where each item's " title  summary " starts
    np.cumsum(title_length + summary_length + 2 + len(SEPARATOR), out=block[1:])
    title_end = block[:-1] + 1 + title_length
    original = "".join([f" {t}{SEPARATOR}{s} " for t, s in zip(titles, summaries, strict=True)])
    return original, block, title_end


def _expand(compiled: Compiled, matcher: Matcher, found: list[tuple[int, int, int]], original: str,
            block: np.ndarray) -> _Raw:
    """Return one hit per rule of each match's pattern (abbreviations: per rule of the exact token shown)."""
    raw = np.fromiter(chain.from_iterable(found), dtype=np.int64, count=3 * len(found)).reshape(-1, 3)
    pattern, s_pad, e_pad = raw[:, 0], raw[:, 1], raw[:, 2]
    start, end = s_pad + 1, e_pad - 1  # the padded pattern " form " spans [s, e); the form [s + 1, e - 1)
    item = np.searchsorted(block, start, side="right") - 1
    # expand each match to its pattern's rules
    plain = ~compiled.has_exact[pattern]
    counts = compiled.ptr[pattern + 1] - compiled.ptr[pattern]
    which = np.repeat(np.arange(pattern.size), counts)
    rule = np.repeat(compiled.ptr[pattern], counts) + (np.arange(which.size) - np.repeat(np.cumsum(counts) - counts,
                                                                                          counts))
    hits = _Raw(item[which], start[which], end[which], compiled.kind[rule], compiled.owner[rule], compiled.lang[rule])
    extra = _exact_hits(compiled, matcher, original, np.flatnonzero(~plain), pattern, item, start, end)
    if not extra:
        return hits
    more = np.array(extra, dtype=np.int64)
    return _Raw(*(np.concatenate((column, more[:, n])) for n, column in enumerate(hits)))


def _exact_hits(compiled: Compiled, matcher: Matcher, original: str, matches: np.ndarray, pattern: np.ndarray,
                item: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[tuple[int, int, int, int, int, int]]:
    """Return (item, start, end, kind, owner, lang) of the rules of the exact tokens shown by the `matches` of
    case-sensitive abbreviations: the original text must show the token exactly (few: plain Python)."""
    extra: list[tuple[int, int, int, int, int, int]] = []
    topic_index = {t: n for n, t in enumerate(compiled.topics)}
    for m in matches:
        forms = matcher.exact[int(pattern[m])] or {}
        s, e = int(start[m]), int(end[m])
        for r in forms.get(original[s:e], ()):
            owner = topic_index[r.owner] if r.kind != PHRASE else len(compiled.topics) + compiled.phrases.index(r.owner)
            extra.append((int(item[m]), s, e, KIND_CODE[r.kind], owner, compiled.lang_codes[r.lang]))
    return extra


def _in_field_and_language(compiled: Compiled, original: str, raw: _Raw, title_end: np.ndarray,
                           langs: Sequence[str | None], languages: frozenset[str]) -> Hits:
    """Return the hits within the title or the summary, of a rule in the item's language, English or any
    language (every rule when the item's language is unknown; profile phrases in every language)."""
    # field: title, summary, or neither (a hit across the separator)
    in_title = raw.end <= title_end[raw.item]
    in_summary = raw.start >= title_end[raw.item] + len(SEPARATOR)
    keep = in_title | in_summary
    field = np.where(in_title, 0, 1)
    codes: dict[str | None, int] = {lang: code for lang, code in compiled.lang_codes.items() if lang in languages}
    item_lang = np.array([codes.get(lang, -1) for lang in langs], dtype=np.int64)  # -1: unknown, every rule
    il = item_lang[raw.item]
    keep &= (raw.kind == 3) | (il < 0) | (raw.lang <= 1) | (raw.lang == il)
    idx = np.flatnonzero(keep)
    return Hits(original, raw.item[idx], field[idx], raw.start[idx], raw.end[idx], raw.kind[idx], raw.owner[idx])
