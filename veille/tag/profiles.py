"""Members' profiles compiled once: keyword expressions parsed, the phrases they use (pure functions).

What a profile matches, and why, is decided in `matching.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from veille.keywords import Expr, parse, phrases
from veille.models import Member

KEYWORD_SCORE = 2.0
CPV_SCORE = 2.0


@dataclass(frozen=True)
class Rule:
    """A keyword entry: its text as written in members.yaml, and its parsed expression."""

    text: str
    expr: Expr


@dataclass(frozen=True)
class Profile:
    member: Member
    keywords: tuple[Rule, ...]
    exclude: tuple[Rule, ...]


@dataclass(frozen=True)
class Profiles:
    """The members' profiles, in members.yaml order."""

    profiles: tuple[Profile, ...]
    with_cpv: tuple[int, ...] = ()  # profiles with CPV prefixes

    def __iter__(self) -> Iterator[Profile]:
        return iter(self.profiles)


def compile_profiles(members: Iterable[Member]) -> Profiles:
    """Return the members' profiles with their keyword expressions parsed once."""
    profiles = tuple(Profile(m, tuple(Rule(k, parse(k)) for k in m.keywords),
                             tuple(Rule(k, parse(k)) for k in m.exclude)) for m in members)
    return Profiles(profiles, tuple(n for n, p in enumerate(profiles) if p.member.cpv))


def profile_phrases(profiles: Iterable[Profile]) -> set[str]:
    """Every phrase used by the profiles' keywords and exclusions."""
    return {p for profile in profiles for rule in (*profile.keywords, *profile.exclude) for p in phrases(rule.expr)}
