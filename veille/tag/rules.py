"""Topics of an item from the taxonomy's rules: words in the item's language, and CPV codes (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from veille.models import Topic, TopicTag
from veille.tag.batch import THRESHOLD, WEAK_ONLY_THRESHOLD, score_batch
from veille.tag.hits import Compiled, compile_rules
from veille.tag.matcher import EXCLUDE, STRONG, WEAK, Matcher

CPV_WEIGHT, CPV_CAP = 1.5, 3.0


@dataclass(frozen=True)
class Taxonomy:
    """The topics' rules compiled into one matcher (with the profiles' phrases, when given)."""

    matcher: Matcher
    compiled: Compiled
    topic_ids: tuple[str, ...]
    languages: frozenset[str]
    cpv_codes: dict[str, frozenset[str]] = field(default_factory=dict)
    cpv_prefixes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def cpv_hits(self, topic: str, codes: Iterable[str]) -> list[str]:
        prefixes = self.cpv_prefixes.get(topic, ())
        exact = self.cpv_codes.get(topic, frozenset())
        return [c for c in codes if c in exact or (prefixes and c.startswith(prefixes))]



def compile_taxonomy(topics: Iterable[Topic], phrases: Iterable[str] = ()) -> Taxonomy:
    """Return the taxonomy: every topic's rules, and the given keyword phrases, compiled into one matcher."""
    topics = list(topics)
    terms = {t.id: {STRONG: t.terms, WEAK: t.weak_terms, EXCLUDE: t.exclude} for t in topics}
    matcher = Matcher(terms, phrases, {t.id: t.abbreviations for t in topics})
    return Taxonomy(
        matcher, compile_rules(matcher, [t.id for t in topics]),
        tuple(t.id for t in topics), _languages(topics),
        {t.id: frozenset(c for c in t.cpv if not c.endswith("*")) for t in topics},
        {t.id: tuple(c[:-1] for c in t.cpv if c.endswith("*")) for t in topics},
    )


def _languages(topics: Sequence[Topic]) -> frozenset[str]:
    """Return the languages (ISO 639-1) of the topics' rules, "any" aside."""
    return frozenset(lang for t in topics for by_lang in (t.terms, t.weak_terms, t.exclude, t.abbreviations)
                     for lang in by_lang if lang != "any")


def finish_topics(taxonomy: Taxonomy, found: dict[str, tuple[float, bool, list[str]]],
                  source_topics: Iterable[str] = (), cpv: Sequence[str] = ()) -> dict[str, TopicTag]:
    """Return {topic: TopicTag} for topics scoring at least THRESHOLD (1.5 from ambiguous words alone).

    `found` holds the words' (score, strong, evidence) per topic, from batch.py: a distinct term counts
    once per field, 1 strong or 0.5 weak, doubled in the title, none near an excluding phrase; only
    topics over the threshold unless the item has CPV codes or source topics. CPV codes add 1.5 each
    (at most 3); a topic the source implies is always kept.
    """
    if not cpv and not source_topics:  # the words alone
        return _words_alone(found)
    scores = {t: score for t, (score, _, _) in found.items()}
    strong = {t for t, (_, is_strong, _) in found.items() if is_strong}
    evidence = {t: list(notes) for t, (_, _, notes) in found.items()}
    for topic, codes in _cpv_topics(taxonomy, cpv):
        scores[topic] = scores.get(topic, 0.0) + min(CPV_CAP, CPV_WEIGHT * len(codes))
        strong.add(topic)
        evidence.setdefault(topic, []).insert(0, f"CPV {', '.join(codes[:3])}")
    result = {t: TopicTag(round(s, 2), evidence.get(t, [])) for t, s in scores.items()
              if s >= (THRESHOLD if t in strong else WEAK_ONLY_THRESHOLD)}
    return _with_source_topics(result, source_topics)


def _words_alone(found: dict[str, tuple[float, bool, list[str]]]) -> dict[str, TopicTag]:
    """Return {topic: TopicTag} for the topics whose words alone reach the threshold."""
    return {t: TopicTag(round(score, 2), notes) for t, (score, strong, notes) in found.items()
            if score >= (THRESHOLD if strong else WEAK_ONLY_THRESHOLD)}


def _cpv_topics(taxonomy: Taxonomy, cpv: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Return (topic, the codes implying it) for each topic the CPV codes imply, in the taxonomy's order."""
    if not cpv:
        return []
    return [(topic, codes) for topic in taxonomy.topic_ids if (codes := taxonomy.cpv_hits(topic, cpv))]


def _with_source_topics(result: dict[str, TopicTag], source_topics: Iterable[str]) -> dict[str, TopicTag]:
    """Return `result` (changed in place) with THRESHOLD more for each topic the source implies, added if missing."""
    for topic_id in source_topics:
        tag = result.setdefault(topic_id, TopicTag(0.0, []))
        tag.score = round(tag.score + THRESHOLD, 2)
        tag.evidence.append("source topic")
    return result


def tag_topics(title: str, summary: str, taxonomy: Taxonomy, source_topics: Iterable[str] = (),
               cpv: Sequence[str] = (), lang: str | None = None) -> dict[str, TopicTag]:
    """Return the topics of one text."""
    return tag_texts(taxonomy, [(title, summary, lang, cpv)], [tuple(source_topics)])[0]


def tag_texts(taxonomy: Taxonomy, texts: Sequence[tuple[str, str, str | None, Sequence[str]]],
              source_topics: Sequence[Sequence[str]] | None = None) -> list[dict[str, TopicTag]]:
    """Return the topics of many (title, summary, language, CPV codes), scanned together."""
    implied = source_topics or [()] * len(texts)
    scored = score_batch(taxonomy.compiled, taxonomy.matcher, [t[0] or "" for t in texts],
                         [t[1] or "" for t in texts], [t[2] for t in texts], taxonomy.languages,
                         [bool(t[3] or implied[n]) for n, t in enumerate(texts)])
    return [scored.final[n] if n in scored.final else
            finish_topics(taxonomy, scored.topics.get(n, {}), implied[n], t[3]) for n, t in enumerate(texts)]
