"""Changes to the profiles and the taxonomy that readers' verdicts call for (pure functions).

From what a reader said of the items it was sent ("relevant" / "not_relevant"):
- exclusions: terms found in at least two of a member's "not for us" items and in none of its relevant ones;
- keywords: terms of relevant items the member's profile did not match, found in none of its "not for us";
- for the working group (which follows topics, not a profile): exclusions of a topic, from its "not for us"
  items carrying that topic.
Common words are left out by their frequency in a sample of the archive (no word list per language), and
every candidate is checked by tagging again with it: it is proposed only when it changes at least one judged
item the right way and none the wrong way; what it would change in the sample is counted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from itertools import pairwise

from veille.models import Item, Member, Suggestion, Topic
from veille.tag import Tagger
from veille.text import fold
from veille.tokens import GROUP

MIN_ITEMS = 2  # a term must be in this many "not for us" items to be proposed as an exclusion
COMMON = 0.10  # a term in more than this share of the archive sample is a common word, never proposed
COMMON_ITEMS = 5  # ... and in more than this many of its items (a small archive says little of a word)
KEYWORD_COMMON = 0.05  # rarer still for a keyword: it adds items
PER_KIND = 3  # proposals of each kind per reader
MAX_TRIALS = 40  # candidates tried per kind and reader: each is a tagging of the judged items


def terms_of(item: Item) -> dict[str, str]:
    """The item's candidate terms, folded (as the matcher compares them) with their first form in the text
    (lower case, accents kept): words of four letters or more, and pairs of words of three or more that stand
    side by side in one field (nothing but spaces between them: no pair across a comma or a sentence)."""
    found: dict[str, str] = {}
    for text in (item.title, item.summary):
        folded = fold(text).text  # the same length as the text: positions map back to its words
        spans = [(m.group(), text[m.start():m.end()].lower(), m.start(), m.end())
                 for m in re.finditer(r"\S+", folded)]
        for word, form, _, _ in spans:
            if len(word) >= 4 and not word.isdigit():
                found.setdefault(word, form)
        for (a, form_a, _, end), (b, form_b, start, _) in pairwise(spans):
            if len(a) >= 3 and len(b) >= 3 and not (a.isdigit() or b.isdigit()) and not text[end:start].strip():
                found.setdefault(f"{a} {b}", f"{form_a} {form_b}")
    return found


def _counts(items: Sequence[Item]) -> Counter[str]:
    """In how many of `items` each folded term is."""
    counts: Counter[str] = Counter()
    for item in items:
        counts.update(terms_of(item).keys())
    return counts


def _common(counts: Counter[str], size: int, share: float) -> set[str]:
    """The terms of more than `share` of a sample of `size` items (and more than COMMON_ITEMS of them)."""
    bound = max(COMMON_ITEMS, share * size)
    return {t for t, n in counts.items() if n > bound}


def _candidates(items: Sequence[Item], minimum: int, background: Counter[str]) -> list[tuple[str, str]]:
    """(folded term, its form) of the terms of at least `minimum` of `items`: the most frequent among them first,
    then the rarest in the archive sample (the most telling), a word before a pair of words, the longest first;
    at most MAX_TRIALS of them (each is tried by tagging again)."""
    counts: Counter[str] = Counter()
    forms: dict[str, str] = {}
    for item in items:
        terms = terms_of(item)
        counts.update(terms.keys())
        for term, form in terms.items():
            forms.setdefault(term, form)
    chosen = [t for t, n in counts.items() if n >= minimum]
    chosen.sort(key=lambda t: (-counts[t], background[t], " " in t, -len(t), t))
    return [(t, forms[t]) for t in chosen[:MAX_TRIALS]]


class Retagger:
    """Tags copies of items with changed rules (the tag stage's own tagger, built per change)."""

    def __init__(self, topics: Sequence[Topic], source_topics: Mapping[str, Sequence[str]] | None = None):
        self.topics = list(topics)
        self.sources = source_topics or {}

    def _tag(self, tagger: Tagger, items: Sequence[Item]) -> list[Item]:
        copies = [replace(i, topics={}, members={}) for i in items]
        tagger.tag_many(copies, [self.sources.get(i.source, ()) for i in copies])
        return copies

    def members(self, member: Member, items: Sequence[Item]) -> list[bool]:
        """Whether `member`'s profile matches each item."""
        return [member.id in c.members for c in self._tag(Tagger.build(self.topics, [member]), items)]

    def listed(self, members: Sequence[Member], items: Sequence[Item]) -> list[bool]:
        """Whether each item gets a topic or a member match with today's rules (what a digest lists)."""
        return [bool(c.topics or c.members) for c in self._tag(Tagger.build(self.topics, members), items)]

    def topic(self, topics: Sequence[Topic], topic: str, items: Sequence[Item]) -> list[bool]:
        """Whether each item gets `topic` with the taxonomy `topics`."""
        return [topic in c.topics for c in self._tag(Tagger.build(topics, []), items)]


Trial = Callable[[str], tuple[list[str], list[str]]]  # term -> (judged items put right, judged items put wrong)


def _search(reader: str, kind: str, candidates: Sequence[tuple[str, str]], blocked: set[str], trial: Trial,
            others: Callable[[str], int], holders: Mapping[str, set[str]], topic: str | None = None
            ) -> list[Suggestion]:
    """Up to PER_KIND proposals of `kind`, each tried by `trial` and kept when it puts right at least one judged
    item no earlier proposal did and puts none wrong (a word and its pairs are not proposed twice). `holders`:
    the ids of the judged items holding each term (a term whose items are all put right already is not tried);
    `others` counts, for a proposal kept, the other stored items it would change."""
    out: list[Suggestion] = []
    taken: list[str] = []  # the folded terms proposed
    fixed: set[str] = set()
    for term, form in candidates:
        if len(out) >= PER_KIND:
            break
        if term in blocked or holders.get(term, set()) <= fixed or any(
                term in t.split() or t in term.split() for t in taken):
            continue
        fixes, harm = trial(form)
        if fixes and not harm and not set(fixes) <= fixed:
            fixed |= set(fixes)
            taken.append(term)
            out.append(Suggestion(reader, kind, form, topic, fixes, others(form)))
    return out


def _holders(items: Sequence[Item]) -> dict[str, set[str]]:
    """{folded term: ids of the items holding it}."""
    out: dict[str, set[str]] = {}
    for item in items:
        for term in terms_of(item):
            out.setdefault(term, set()).add(item.id)
    return out


def suggest_member(member: Member, judged: Sequence[tuple[Item, str]], sample: Sequence[Item],
                   retag: Retagger) -> list[Suggestion]:
    """Exclusions and keywords for one member from its verdicts (`judged`: items with "relevant" or
    "not_relevant"), checked against today's profile."""
    items = [i for i, _ in judged]
    if not items:
        return []
    sent = retag.members(member, items)
    verdicts = [v for _, v in judged]
    wrong = [i for i, v, s in zip(items, verdicts, sent, strict=True) if v == "not_relevant" and s]
    missed = [i for i, v, s in zip(items, verdicts, sent, strict=True) if v == "relevant" and not s]
    if not wrong and not missed:
        return []
    background = _counts(sample)
    base: list[bool] = []  # the sample as today's profile sees it, tagged once when a proposal needs it

    def changed(field: str, term: str) -> Member:
        return member.model_copy(update={field: (*getattr(member, field), _entry(term))})

    def trial(field: str) -> Trial:
        return lambda term: _compare(items, verdicts, sent, retag.members(changed(field, term), items))

    def others(field: str) -> Callable[[str], int]:
        def count(term: str) -> int:
            if not base:
                base.extend(retag.members(member, sample))
            return _changes(retag.members(changed(field, term), sample), base, sample, items)
        return count

    holders = _holders(items)
    out: list[Suggestion] = []
    if wrong:
        blocked = set().union(*(terms_of(i) for i, v in judged if v == "relevant"))
        blocked |= _common(background, len(sample), COMMON)
        out += _search(member.id, "exclude", _candidates(wrong, MIN_ITEMS, background), blocked, trial("exclude"),
                       others("exclude"), holders)
    if missed:
        blocked = set().union(*(terms_of(i) for i, v in judged if v == "not_relevant"))
        blocked |= _common(background, len(sample), KEYWORD_COMMON)
        out += _search(member.id, "keyword", _candidates(missed, 1, background), blocked, trial("keywords"),
                       others("keywords"), holders)
    return out


def suggest_group(topics: Sequence[Topic], judged: Sequence[tuple[Item, str]], sample: Sequence[Item],
                  retag: Retagger) -> list[Suggestion]:
    """Exclusions of a topic from the working group's "not for us" items carrying it."""
    out: list[Suggestion] = []
    items = [i for i, _ in judged]
    verdicts = [v for _, v in judged]
    if "not_relevant" not in verdicts:
        return out
    background = _counts(sample)
    common = _common(background, len(sample), COMMON)
    holders = _holders(items)
    for topic in topics:
        tagged = retag.topic(topics, topic.id, items)
        wrong = [i for i, v, t in zip(items, verdicts, tagged, strict=True) if v == "not_relevant" and t]
        if len(wrong) < MIN_ITEMS:
            continue

        def changed(term: str, topic: Topic = topic) -> list[Topic]:
            exclude = {**topic.exclude, "any": (*topic.exclude.get("any", ()), term)}
            return [t.model_copy(update={"exclude": exclude}) if t.id == topic.id else t for t in topics]

        def trial(term: str, topic: Topic = topic, tagged: list[bool] = tagged) -> tuple[list[str], list[str]]:
            return _compare(items, verdicts, tagged, retag.topic(changed(term), topic.id, items))

        def others(term: str, topic: Topic = topic) -> int:
            base = retag.topic(topics, topic.id, sample)
            return _changes(retag.topic(changed(term), topic.id, sample), base, sample, items)

        blocked = common | set().union(*(terms_of(i) for i, v, t in zip(items, verdicts, tagged, strict=True)
                                         if v == "relevant" and t))
        out += _search(GROUP, "topic_exclude", _candidates(wrong, MIN_ITEMS, background), blocked, trial, others,
                       holders, topic.id)
    return out


def _compare(items: Sequence[Item], verdicts: Sequence[str], before: Sequence[bool], after: Sequence[bool]
             ) -> tuple[list[str], list[str]]:
    """(judged items the change puts right, judged items it puts wrong)."""
    right: list[str] = []
    wrong: list[str] = []
    for item, verdict, was, now in zip(items, verdicts, before, after, strict=True):
        if was != now:
            (right if now == (verdict == "relevant") else wrong).append(item.id)
    return right, wrong


def _entry(term: str) -> str:
    """The term as a members.yaml entry: one phrase (quoted when it would read as an operator)."""
    return f'"{term}"' if any(w.upper() in ("AND", "OR", "NOT") for w in term.split()) else term


def _changes(after: Sequence[bool], before: Sequence[bool], sample: Sequence[Item], judged: Sequence[Item]) -> int:
    """How many sample items, the judged aside, the change would take in or out."""
    skip = {i.id for i in judged}
    return sum(a != b for a, b, i in zip(after, before, sample, strict=True) if i.id not in skip)
