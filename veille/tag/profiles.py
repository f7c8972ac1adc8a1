"""Which members an item matters to, and why (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from veille.models import Item, Member, MemberMatch
from veille.tag.keywords import Expr, evaluate, parse
from veille.text import fold

KEYWORD_SCORE = 2.0
CPV_SCORE = 2.0


@dataclass(frozen=True)
class Profile:
    member: Member
    keywords: tuple[tuple[str, Expr], ...]
    exclude: tuple[tuple[str, Expr], ...]


def compile_profiles(members: Iterable[Member]) -> tuple[Profile, ...]:
    """Return each member with its keyword expressions parsed once."""
    return tuple(
        Profile(m, tuple((k, parse(k)) for k in m.keywords), tuple((k, parse(k)) for k in m.exclude))
        for m in members
    )


def match_members(item: Item, profiles: Iterable[Profile]) -> dict[str, MemberMatch]:
    """Return {member ID: MemberMatch} for the members whose profile the item satisfies."""
    fields = {"title": fold(item.title or ""), "summary": fold(item.summary or "")}
    region = item.region
    result: dict[str, MemberMatch] = {}
    for profile in profiles:
        member = profile.member
        if member.kinds and item.kind not in member.kinds:
            continue
        if member.regions and region is not None and region not in member.regions:
            continue
        if any(evaluate(expr, fields) is not None for _, expr in profile.exclude):
            continue
        score = 0.0
        reasons: list[str] = []
        for topic in member.topics:
            tag = item.topics.get(topic)
            if tag:
                score += tag.score
                first = tag.evidence[0] if tag.evidence else "tagged"
                reasons.append(f"topic {topic}: {first}")
        for text, expr in profile.keywords:
            evidence = evaluate(expr, fields)
            if evidence:
                score += KEYWORD_SCORE
                reasons.append(f"keyword {text!r}: {', '.join(evidence)}")
        for prefix in member.cpv:
            code = next((c for c in item.cpv if c.startswith(prefix)), None)
            if code:
                score += CPV_SCORE
                reasons.append(f"CPV {code} matches {prefix}")
        if reasons and score >= member.min_score:
            result[member.id] = MemberMatch(round(score, 2), reasons)
    return result
