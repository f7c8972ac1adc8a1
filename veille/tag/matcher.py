"""One pass over a text finds every term of every topic and every member keyword (Aho-Corasick).

All phrases are folded (lower case, no accents, punctuation as spaces) and expanded to their singular
and plural forms, then compiled into a single automaton (ahocorasick-rs); a text is folded the same way
(same length, so a hit's span is also its span in the original) and scanned once. Abbreviations are
case-sensitive whole tokens: their folded form is in the same automaton, and a hit counts only when the
original text shows the token exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import ahocorasick_rs

from veille.text import fold, phrase_forms

STRONG, WEAK, EXCLUDE, PHRASE = "strong", "weak", "exclude", "phrase"


class Rule(NamedTuple):
    """What a pattern stands for: a topic's strong/weak/exclude term in a language, or a profile phrase."""

    kind: str
    owner: str  # topic ID, or the phrase itself for PHRASE rules
    lang: str  # ISO 639-1, or "any"


Hit = tuple[Rule, int, int]  # (rule, start, end): plain tuples, millions are made


class Matcher:
    """Compiled once from the taxonomy and the profiles' phrases; `scan` a text many times."""

    def __init__(self, topic_terms: Mapping[str, Mapping[str, Mapping[str, Sequence[str]]]],
                 phrases: Iterable[str] = (),
                 abbreviations: Mapping[str, Mapping[str, Sequence[str]]] | None = None):
        """`topic_terms[topic][kind][lang]` lists the phrases of each kind (strong, weak, exclude)."""
        patterns: dict[str, list[Rule]] = {}
        for topic, kinds in topic_terms.items():
            for kind, by_lang in kinds.items():
                for lang, terms in by_lang.items():
                    for term in terms:
                        for form in phrase_forms(term):
                            patterns.setdefault(form, []).append(Rule(kind, topic, lang))
        for phrase in phrases:
            for form in phrase_forms(phrase):
                patterns.setdefault(form, []).append(Rule(PHRASE, phrase, "any"))
        # abbreviations: the folded token finds the place, the original must show the exact token
        exact: dict[str, dict[str, list[Rule]]] = {}
        for topic, by_lang in (abbreviations or {}).items():
            for lang, tokens in by_lang.items():
                for token in tokens:
                    for form in (token, f"{token}s"):
                        folded = fold(form).text
                        exact.setdefault(folded, {}).setdefault(form, []).append(Rule(WEAK, topic, lang))
        keys = list(dict.fromkeys([*patterns, *exact]))
        # padded with spaces: in a folded text every word boundary is a space, so the automaton
        # reports whole words only, with no check left to do in Python
        self._automaton = ahocorasick_rs.AhoCorasick([f" {k} " for k in keys]) if keys else None
        self._rules: list[tuple[Rule, ...]] = [tuple(dict.fromkeys(patterns.get(k, ()))) for k in keys]
        self._exact: list[dict[str, tuple[Rule, ...]] | None] = [
            {form: tuple(dict.fromkeys(rules)) for form, rules in exact[k].items()} if k in exact else None
            for k in keys]

    def scan(self, original: str, folded: str, split: int | None = None) -> tuple[list[Hit], list[Hit]]:
        """Every word-bounded occurrence of every pattern in `original` (folded: `fold(original).text`),
        overlaps included, as (rule, start, end). With `split`, hits starting at or after it go to the
        second list, with spans counted from `split`; a hit across it is dropped."""
        first: list[Hit] = []
        second: list[Hit] = []
        if self._automaton is None:
            return first, second
        rules, exact = self._rules, self._exact
        limit = len(original) if split is None else split
        # " text " with the padded patterns: a hit [s, e) in the padded text spans [s, e - 2) in the text
        for index, start, end in self._automaton.find_matches_as_indexes(f" {folded} ", overlapping=True):
            end -= 2
            if end <= limit:
                out, shift = first, 0
            elif split is not None and start >= split:
                out, shift = second, split
            else:
                continue
            for rule in rules[index]:
                out.append((rule, start - shift, end - shift))
            forms = exact[index]
            if forms is not None:
                for rule in forms.get(original[start:end], ()):
                    out.append((rule, start - shift, end - shift))
        return first, second


_ORDER = {STRONG: 0, PHRASE: 0, WEAK: 1}


def _longer_first(hit: Hit) -> tuple[int, int, int]:
    return (hit[1] - hit[2], _ORDER.get(hit[0].kind, 2), hit[1])


def longest_first(hits: Iterable[Hit]) -> list[Hit]:
    """Keep, per owner, the longest non-overlapping hits (a strong phrase wins over a weak word inside it)."""
    by_owner: dict[str, list[Hit]] = {}
    for hit in hits:
        by_owner.setdefault(hit[0].owner, []).append(hit)
    kept: list[Hit] = []
    for group in by_owner.values():
        if len(group) == 1:  # the common case, nothing to arbitrate
            kept.append(group[0])
            continue
        chosen: list[Hit] = []
        for hit in sorted(group, key=_longer_first):
            if all(hit[2] <= k[1] or k[2] <= hit[1] for k in chosen):
                chosen.append(hit)
        kept += chosen
    return kept
