"""Which members an item matters to, and why (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from veille.models import Item, Member, MemberMatch
from veille.tag.keywords import And, Expr, Not, Phrase, evaluate, parse, phrases

KEYWORD_SCORE = 2.0
CPV_SCORE = 2.0


@dataclass(frozen=True)
class Rule:
    """A keyword entry: its text, its expression, and the phrases one of which it needs (None: none)."""

    text: str
    expr: Expr
    needs: frozenset[str] | None


@dataclass(frozen=True)
class Profile:
    member: Member
    keywords: tuple[Rule, ...]
    exclude: tuple[Rule, ...]


def _needs(expr: Expr) -> frozenset[str] | None:
    """Phrases at least one of which must be present for `expr` to hold; None if it can hold on none."""
    if isinstance(expr, Phrase):
        return frozenset([expr.text])
    if isinstance(expr, Not):
        return None
    parts = [_needs(o) for o in expr.operands]
    if isinstance(expr, And):
        known = [p for p in parts if p is not None]
        return min(known, key=len) if known else None
    return None if any(p is None for p in parts) else frozenset().union(*parts)  # type: ignore[arg-type]


def _rule(text: str) -> Rule:
    expr = parse(text)
    return Rule(text, expr, _needs(expr))


@dataclass(frozen=True)
class Profiles:
    """The members' profiles, with an index from each phrase to the rules that need it."""

    profiles: tuple[Profile, ...]
    by_phrase: dict[str, tuple[tuple[int, bool, Rule], ...]]  # phrase -> (profile index, is exclusion, rule)
    unconditional: tuple[tuple[int, bool, Rule], ...]  # rules that can hold without any phrase (NOT …)
    by_topic: dict[str, tuple[int, ...]] = field(default_factory=dict)  # topic -> profiles following it
    with_cpv: tuple[int, ...] = ()  # profiles with CPV prefixes

    def __iter__(self) -> Iterator[Profile]:
        return iter(self.profiles)

    def candidates(self, found: Iterable[str]) -> dict[int, list[tuple[bool, Rule]]]:
        """The rules worth evaluating for an item, per profile: only those whose phrases were found."""
        out: dict[int, list[tuple[bool, Rule]]] = {}
        seen: set[int] = set()
        for phrase in found:
            for index, excluding, rule in self.by_phrase.get(phrase, ()):
                if id(rule) not in seen:
                    seen.add(id(rule))
                    out.setdefault(index, []).append((excluding, rule))
        for index, excluding, rule in self.unconditional:
            out.setdefault(index, []).append((excluding, rule))
        return out


def compile_profiles(members: Iterable[Member]) -> Profiles:
    """Return the members' profiles with their keyword expressions parsed and indexed once."""
    profiles = tuple(Profile(m, tuple(_rule(k) for k in m.keywords), tuple(_rule(k) for k in m.exclude))
                     for m in members)
    by_phrase: dict[str, list[tuple[int, bool, Rule]]] = {}
    unconditional = []
    for index, profile in enumerate(profiles):
        for excluding, rules in ((False, profile.keywords), (True, profile.exclude)):
            for rule in rules:
                if rule.needs is None:
                    unconditional.append((index, excluding, rule))
                for phrase in rule.needs or ():
                    by_phrase.setdefault(phrase, []).append((index, excluding, rule))
    by_topic: dict[str, list[int]] = {}
    for index, profile in enumerate(profiles):
        for topic in profile.member.topics:
            by_topic.setdefault(topic, []).append(index)
    return Profiles(profiles, {k: tuple(v) for k, v in by_phrase.items()}, tuple(unconditional),
                    {k: tuple(v) for k, v in by_topic.items()},
                    tuple(n for n, p in enumerate(profiles) if p.member.cpv))


def profile_phrases(profiles: Iterable[Profile]) -> set[str]:
    """Every phrase used by the profiles' keywords and exclusions."""
    return {p for profile in profiles for rule in (*profile.keywords, *profile.exclude) for p in phrases(rule.expr)}


def match_members(item: Item, profiles: Profiles, found: dict[str, str]) -> dict[str, MemberMatch]:
    """Return {member ID: MemberMatch} for the members whose profile the item satisfies.

    `found` maps each profile phrase present in the item to where it was seen ("'PVDF' in title").
    """
    if not (item.topics or found or item.cpv or profiles.unconditional):
        return {}  # most items of an archive: nothing any profile could match
    region = item.region
    candidates = profiles.candidates(found)
    # only the profiles something could satisfy: a topic they follow, a phrase of theirs, a CPV code
    relevant = set(candidates)
    for topic in item.topics:
        relevant.update(profiles.by_topic.get(topic, ()))
    if item.cpv:
        relevant.update(profiles.with_cpv)
    result: dict[str, MemberMatch] = {}
    for index in sorted(relevant):
        profile = profiles.profiles[index]
        member = profile.member
        if member.kinds and item.kind not in member.kinds:
            continue
        if member.regions and region is not None and region not in member.regions:
            continue
        rules = candidates.get(index, ())
        if rules and any(excluding and evaluate(rule.expr, found) is not None for excluding, rule in rules):
            continue
        score = 0.0
        reasons: list[str] = []
        for topic in member.topics:
            tag = item.topics.get(topic)
            if tag:
                score += tag.score
                first = tag.evidence[0] if tag.evidence else "tagged"
                reasons.append(f"topic {topic}: {first}")
        wanted = {id(rule) for excluding, rule in rules if not excluding}
        for rule in profile.keywords if wanted else ():
            if id(rule) not in wanted:
                continue
            evidence = evaluate(rule.expr, found)
            if evidence:
                score += KEYWORD_SCORE
                reasons.append(f"keyword {rule.text!r}: {', '.join(evidence)}")
        for prefix in member.cpv:
            code = next((c for c in item.cpv if c.startswith(prefix)), None)
            if code:
                score += CPV_SCORE
                reasons.append(f"CPV {code} matches {prefix}")
        if reasons and score >= member.min_score:
            result[member.id] = MemberMatch(round(score, 2), reasons)
    return result
