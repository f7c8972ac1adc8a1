"""Topics of an item from the taxonomy's rules: words in the item's language, and CPV codes (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from veille.models import Topic, TopicTag
from veille.tag.matcher import EXCLUDE, PHRASE, STRONG, WEAK, Hit, Matcher, longest_first
from veille.text import fold

FIELD_WEIGHT = {"title": 2.0, "summary": 1.0}
WEIGHT = {STRONG: 1.0, WEAK: 0.5}
THRESHOLD = 1.0
WEAK_ONLY_THRESHOLD = 1.5  # ambiguous words alone must repeat (title and summary) to count
CPV_WEIGHT, CPV_CAP = 1.5, 3.0
EXCLUDE_WINDOW = 30  # characters: an excluding context this close cancels a term ("membrane … EPDM")
MAX_EVIDENCE = 4
ALWAYS = ("any", "en")  # English technical terms appear in texts of every language


@dataclass(frozen=True)
class Taxonomy:
    """The topics' rules compiled into one matcher (with the profiles' phrases, when given)."""

    matcher: Matcher
    topic_ids: tuple[str, ...]
    languages: frozenset[str]
    cpv_codes: dict[str, frozenset[str]] = field(default_factory=dict)
    cpv_prefixes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def cpv_hits(self, topic: str, codes: Iterable[str]) -> list[str]:
        prefixes = self.cpv_prefixes.get(topic, ())
        exact = self.cpv_codes.get(topic, frozenset())
        return [c for c in codes if c in exact or (prefixes and c.startswith(prefixes))]

    def allowed(self, lang: str | None) -> frozenset[str] | None:
        """Languages whose rules apply to a text in `lang` (None: all, when the language is unknown)."""
        return frozenset((lang, *ALWAYS)) if lang in self.languages else None


def compile_taxonomy(topics: Iterable[Topic], phrases: Iterable[str] = ()) -> Taxonomy:
    """Compile every topic's rules, and the given keyword phrases, into one matcher."""
    topics = list(topics)
    terms = {t.id: {STRONG: t.terms, WEAK: t.weak_terms, EXCLUDE: t.exclude} for t in topics}
    languages = frozenset(lang for t in topics for by_lang in (t.terms, t.weak_terms, t.exclude, t.abbreviations)
                          for lang in by_lang if lang != "any")
    return Taxonomy(
        Matcher(terms, phrases, {t.id: t.abbreviations for t in topics}),
        tuple(t.id for t in topics), languages,
        {t.id: frozenset(c for c in t.cpv if not c.endswith("*")) for t in topics},
        {t.id: tuple(c[:-1] for c in t.cpv if c.endswith("*")) for t in topics},
    )


def most_specific(hits: list[Hit]) -> list[Hit]:
    """Drop a hit lying strictly inside a longer strong hit of another topic: "treated wastewater" is about
    reuse, not a wastewater mention."""
    owner = hits[0][0].owner
    if all(h[0].owner == owner for h in hits):
        return hits
    strong = [h for h in hits if h[0].kind == STRONG]
    return [h for h in hits if not any(
        s[0].owner != h[0].owner and s[1] <= h[1] and h[2] <= s[2] and s[2] - s[1] > h[2] - h[1] for s in strong)]


SEPARATOR = "  "  # two spaces: no phrase (words joined by one space) can run from the title into the summary


def scan_fields(taxonomy: Taxonomy, title: str, summary: str) -> dict[str, list[Hit]]:
    """Every rule hit, as (rule, start, end), in the title and in the summary: one fold and one scan of both."""
    title, summary = title or "", summary or ""
    text = f"{title}{SEPARATOR}{summary}"
    in_title, in_summary = taxonomy.matcher.scan(text, fold(text).text, len(title) + len(SEPARATOR))
    return {"title": in_title, "summary": in_summary}


def score_topics(taxonomy: Taxonomy, fields: dict[str, list[Hit]], texts: dict[str, str],
                 lang: str | None = None, source_topics: Iterable[str] = (),
                 cpv: Sequence[str] = ()) -> dict[str, TopicTag]:
    """Return {topic: TopicTag} for topics scoring at least THRESHOLD (1.5 from ambiguous words alone).

    A distinct term counts once per field: 1 (strong) or 0.5 (weak or abbreviation), doubled in the title;
    words inside an excluding phrase of the same topic do not count; CPV codes add 1.5 each (at most 3).
    """
    allowed = taxonomy.allowed(lang)
    scores: dict[str, float] = {}
    strong: set[str] = set()
    evidence: dict[str, list[str]] = {}
    for name, hits in fields.items():
        scoring: list[Hit] = []
        excluded: list[Hit] = []
        for hit in hits:
            rule = hit[0]
            if allowed is not None and rule.lang not in allowed:
                continue
            if rule.kind == EXCLUDE:
                excluded.append(hit)
            elif rule.kind != PHRASE:
                scoring.append(hit)
        if not scoring:
            continue
        if len(scoring) > 1:
            scoring = most_specific(longest_first(scoring))
        seen: set[tuple[str, str]] = set()
        for rule, start, end in scoring:
            topic = rule.owner
            if excluded and any(e[0].owner == topic and e[1] - EXCLUDE_WINDOW < end and start < e[2] + EXCLUDE_WINDOW
                                for e in excluded):
                continue
            text = texts[name][start:end]
            key = (topic, text.casefold())
            if key in seen:
                continue
            seen.add(key)
            scores[topic] = scores.get(topic, 0.0) + WEIGHT[rule.kind] * FIELD_WEIGHT[name]
            if rule.kind == STRONG:
                strong.add(topic)
            notes = evidence.setdefault(topic, [])
            if len(notes) < MAX_EVIDENCE:
                notes.append(f"'{text}' in {name}")
    if cpv:
        for topic in taxonomy.topic_ids:
            codes = taxonomy.cpv_hits(topic, cpv)
            if codes:
                scores[topic] = scores.get(topic, 0.0) + min(CPV_CAP, CPV_WEIGHT * len(codes))
                strong.add(topic)
                evidence.setdefault(topic, []).insert(0, f"CPV {', '.join(codes[:3])}")
    result = {t: TopicTag(round(s, 2), evidence.get(t, [])) for t, s in scores.items()
              if s >= (THRESHOLD if t in strong else WEAK_ONLY_THRESHOLD)}
    for topic_id in source_topics:
        tag = result.setdefault(topic_id, TopicTag(0.0, []))
        tag.score = round(tag.score + THRESHOLD, 2)
        tag.evidence.append("source topic")
    return result


def tag_topics(title: str, summary: str, taxonomy: Taxonomy, source_topics: Iterable[str] = (),
               cpv: Sequence[str] = (), lang: str | None = None) -> dict[str, TopicTag]:
    """Return the topics of one text (scan and score)."""
    return score_topics(taxonomy, scan_fields(taxonomy, title, summary),
                        {"title": title or "", "summary": summary or ""}, lang, source_topics, cpv)
