"""Topics of an item from the taxonomy's keyword rules (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from veille.models import Topic, TopicTag
from veille.text import Folded, compile_phrases, compile_tokens, fold, mask, overlaps

FIELD_WEIGHT = {"title": 2.0, "summary": 1.0}
STRONG, WEAK = 1.0, 0.5
CPV_WEIGHT, CPV_CAP = 1.5, 3.0
THRESHOLD = 1.0
WEAK_ONLY_THRESHOLD = 1.5  # ambiguous words alone must repeat (title and summary) to count
MAX_EVIDENCE = 4


@dataclass(frozen=True)
class CompiledTopic:
    id: str
    strong: re.Pattern[str] | None
    weak: re.Pattern[str] | None
    tokens: re.Pattern[str] | None
    exclude: re.Pattern[str] | None
    cpv_codes: frozenset[str] = frozenset()
    cpv_prefixes: tuple[str, ...] = ()

    def cpv_hits(self, codes: Iterable[str]) -> list[str]:
        """Return the item's CPV codes that imply this topic."""
        return [c for c in codes if c in self.cpv_codes or c.startswith(self.cpv_prefixes)]


def compile_taxonomy(topics: Iterable[Topic]) -> tuple[CompiledTopic, ...]:
    """Return the regexes of every topic, built once per taxonomy."""
    return tuple(
        CompiledTopic(t.id, compile_phrases(t.terms), compile_phrases(t.weak_terms),
                      compile_tokens(t.abbreviations), compile_phrases(t.exclude),
                      frozenset(c for c in t.cpv if not c.endswith("*")),
                      tuple(c[:-1] for c in t.cpv if c.endswith("*")))
        for t in topics
    )


def _hits(topic: CompiledTopic, folded: Folded) -> list[tuple[str, float]]:
    """Return (matched original text, weight) for each rule hit in one field."""
    text, excluded = mask(folded.text, topic.exclude)
    hits: list[tuple[str, float]] = []
    for pattern, weight in ((topic.strong, STRONG), (topic.weak, WEAK)):
        if pattern is None:
            continue
        found = list(pattern.finditer(text))
        for m in found:
            hits.append((folded.original_slice(*m.span()), weight))
        text, _ = mask(text, pattern)  # a strong phrase consumes its words: no double count
    if topic.tokens is not None:
        original_excluded = [folded.span_of(a, b) for a, b in excluded]
        for m in topic.tokens.finditer(folded.original):
            if not overlaps(m.span(), original_excluded):
                hits.append((m.group(0), WEAK))
    return hits


def tag_topics(title: str, summary: str, taxonomy: Sequence[CompiledTopic],
               source_topics: Iterable[str] = (), cpv: Sequence[str] = ()) -> dict[str, TopicTag]:
    """Return {topic ID: TopicTag} for the topics whose rules (words and CPV codes) score at least THRESHOLD."""
    fields = {"title": fold(title or ""), "summary": fold(summary or "")}
    result: dict[str, TopicTag] = {}
    for topic in taxonomy:
        score = 0.0
        strong = False
        evidence: list[str] = []
        for name, folded in fields.items():
            seen: set[str] = set()
            for text, weight in _hits(topic, folded):
                key = text.casefold()
                if key in seen:
                    continue
                seen.add(key)
                strong = strong or weight == STRONG
                score += weight * FIELD_WEIGHT[name]
                if len(evidence) < MAX_EVIDENCE:
                    evidence.append(f"'{text}' in {name}")
        codes = topic.cpv_hits(cpv)
        if codes:
            strong = True
            score += min(CPV_CAP, CPV_WEIGHT * len(codes))
            evidence.insert(0, f"CPV {', '.join(codes[:3])}")
        if score >= (THRESHOLD if strong else WEAK_ONLY_THRESHOLD):
            result[topic.id] = TopicTag(round(score, 2), evidence)
    for topic_id in source_topics:
        tag = result.setdefault(topic_id, TopicTag(0.0, []))
        tag.score = round(tag.score + THRESHOLD, 2)
        tag.evidence.append("source topic")
    return result
