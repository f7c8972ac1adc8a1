"""One pass over a text finds every term of every topic and every member keyword (Aho-Corasick).

All phrases are folded (lower case, no accents, punctuation as spaces) and expanded to their singular
and plural forms, then compiled into a single automaton; a text is folded the same way (same length,
so a hit's span is also its span in the original) and scanned once. Abbreviations are case-sensitive
whole tokens and go through one regular expression.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import ahocorasick

from veille.text import Folded, phrase_forms

STRONG, WEAK, EXCLUDE, PHRASE = "strong", "weak", "exclude", "phrase"


@dataclass(frozen=True)
class Rule:
    """What a pattern stands for: a topic's strong/weak/exclude term in a language, or a profile phrase."""

    kind: str
    owner: str  # topic ID, or the phrase itself for PHRASE rules
    lang: str  # ISO 639-1, or "any"


class Hit(NamedTuple):  # a tuple: millions are made, a dataclass would be slower
    rule: Rule
    start: int
    end: int


class Matcher:
    """Compiled once from the taxonomy and the profiles' phrases; `scan` a folded text many times."""

    def __init__(self, topic_terms: Mapping[str, Mapping[str, Mapping[str, Sequence[str]]]],
                 phrases: Iterable[str] = (),
                 abbreviations: Mapping[str, Mapping[str, Sequence[str]]] | None = None):
        """`topic_terms[topic][kind][lang]` lists the phrases of each kind (strong, weak, exclude)."""
        self._automaton = ahocorasick.Automaton()
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
        for form, rules in patterns.items():
            # padded with spaces: in a folded text every word boundary is a space, so the automaton
            # reports whole words only, with no check left to do in Python
            self._automaton.add_word(f" {form} ", (len(form), tuple(dict.fromkeys(rules))))
        if patterns:
            self._automaton.make_automaton()
        self._empty = not patterns
        # abbreviations are case-sensitive: a second automaton over the original text
        owners: dict[str, list[Rule]] = {}
        for topic, by_lang in (abbreviations or {}).items():
            for lang, tokens in by_lang.items():
                for token in tokens:
                    for form in (token, f"{token}s"):
                        owners.setdefault(form, []).append(Rule(WEAK, topic, lang))
        self._tokens = ahocorasick.Automaton() if owners else None
        if self._tokens is not None:
            for form, token_rules in owners.items():
                self._tokens.add_word(form, (len(form), tuple(dict.fromkeys(token_rules))))
            self._tokens.make_automaton()

    def scan(self, folded: Folded) -> list[Hit]:
        """Every word-bounded occurrence of every pattern, overlaps included."""
        hits: list[Hit] = []
        if not self._empty:
            # " text " with the padded patterns: a hit ending at `end` (on the closing space) spans
            # [end - length, end) in the text
            for end, (length, rules) in self._automaton.iter(f" {folded.text} "):
                hits += [Hit(rule, end - length - 1, end - 1) for rule in rules]
        if self._tokens is not None:
            original = folded.original
            size = len(original)
            for end, (length, rules) in self._tokens.iter(original):
                start = end - length + 1
                if (start and original[start - 1].isalnum()) or (end + 1 < size and original[end + 1].isalnum()):
                    continue
                hits += [Hit(rule, start, end + 1) for rule in rules]
        return hits


_ORDER = {STRONG: 0, PHRASE: 0, WEAK: 1}


def _longer_first(hit: Hit) -> tuple[int, int, int]:
    return (hit.start - hit.end, _ORDER.get(hit.rule.kind, 2), hit.start)


def longest_first(hits: Iterable[Hit]) -> list[Hit]:
    """Keep, per owner, the longest non-overlapping hits (a strong phrase wins over a weak word inside it)."""
    by_owner: dict[str, list[Hit]] = {}
    for hit in hits:
        by_owner.setdefault(hit.rule.owner, []).append(hit)
    kept: list[Hit] = []
    for group in by_owner.values():
        if len(group) == 1:  # the common case, nothing to arbitrate
            kept.append(group[0])
            continue
        chosen: list[Hit] = []
        for hit in sorted(group, key=_longer_first):
            if all(hit.end <= k.start or k.end <= hit.start for k in chosen):
                chosen.append(hit)
        kept += chosen
    return kept
