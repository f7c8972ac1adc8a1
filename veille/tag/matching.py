"""Member matches of many items at once, on numpy arrays (pure).

Per item and member: allowed by kind and region, not excluded, and at least one reason (a followed
topic, a keyword expression holding on a found phrase, a CPV prefix); the score (topic scores, 2 per
keyword and per CPV code) must reach the member's `min_score`. Only the pairs that match build their
reasons as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from veille.models import KINDS, REGIONS, Item, MemberMatch
from veille.tag.keywords import And, Expr, Not, Or, Phrase, evaluate
from veille.tag.profiles import CPV_SCORE, KEYWORD_SCORE, Profiles, Rule, profile_phrases

_KIND = {k: n for n, k in enumerate(KINDS)}
_REGION = {r: n for n, r in enumerate(REGIONS)}


def _holds(expr: Expr, present: np.ndarray, column: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(holds, has evidence) of `expr` for every item, `present[:, column[phrase]]` telling which phrases
    each item contains; evidence is what `keywords.evaluate` would quote (a NOT quotes nothing)."""
    if isinstance(expr, Phrase):
        index = column.get(expr.text)
        found = present[:, index] if index is not None else np.zeros(present.shape[0], dtype=bool)
        return found, found
    if isinstance(expr, Not):
        inner, _ = _holds(expr.operand, present, column)
        return ~inner, np.zeros_like(inner)
    parts = [_holds(o, present, column) for o in expr.operands]
    if isinstance(expr, And):
        holds = np.logical_and.reduce([h for h, _ in parts])
        return holds, holds & np.logical_or.reduce([e for _, e in parts])
    assert isinstance(expr, Or)
    holds = np.zeros(present.shape[0], dtype=bool)
    evidence = np.zeros(present.shape[0], dtype=bool)
    for h, e in parts:  # the first operand that holds gives the evidence
        evidence |= ~holds & h & e
        holds |= h
    return holds, evidence


def match_many(items: Sequence[Item], profiles: Profiles, found: Mapping[int, Mapping[str, str]]) -> list[
        dict[str, MemberMatch]]:
    """{member ID: MemberMatch} for each item; `found[n]` maps the profile phrases in item n to where."""
    out: list[dict[str, MemberMatch]] = [{} for _ in items]
    # an item with no topic, no profile phrase and no CPV code gives no member a reason
    chosen = [n for n, item in enumerate(items) if item.topics or item.cpv or n in found]
    if chosen and profiles.profiles:
        matched = _match([items[n] for n in chosen], profiles,
                         {i: found[n] for i, n in enumerate(chosen) if n in found})
        for n, members in zip(chosen, matched, strict=True):
            out[n] = members
    return out


def _match(items: Sequence[Item], profiles: Profiles, found: Mapping[int, Mapping[str, str]]) -> list[
        dict[str, MemberMatch]]:
    count, members = len(items), len(profiles.profiles)
    out: list[dict[str, MemberMatch]] = [{} for _ in range(count)]
    if not count or not members:
        return out
    topics = sorted({t for p in profiles.profiles for t in p.member.topics})
    topic_column = {t: n for n, t in enumerate(topics)}
    profiles_order = [{t: n for n, t in enumerate(p.member.topics)} for p in profiles.profiles]
    follows = np.zeros((len(topics), members))
    for m, profile in enumerate(profiles.profiles):
        for topic in profile.member.topics:
            follows[topic_column[topic], m] = 1.0
    scores = np.zeros((count, len(topics)))
    tagged = np.zeros((count, len(topics)))
    entries = [(n, topic_column[t], tag.score) for n, item in enumerate(items) if item.topics
               for t, tag in item.topics.items() if t in topic_column]
    if entries:
        at_row, at_column, values = zip(*entries, strict=True)
        scores[at_row, at_column] = values
        tagged[at_row, at_column] = 1.0
    kind = np.array([_KIND.get(item.kind, 0) for item in items], dtype=np.int64)
    regions_of: dict[str | None, int] = {}  # by country code; the last row of regions_ok: no region known
    for item in items:
        if item.country not in regions_of:
            regions_of[item.country] = _REGION.get(item.region or "", len(REGIONS))
    region = np.array([regions_of[item.country] for item in items], dtype=np.int64)
    phrases = sorted(profile_phrases(profiles))
    phrase_column = {p: n for n, p in enumerate(phrases)}
    present = np.zeros((count, len(phrases)), dtype=bool)
    for n, where in found.items():
        for phrase in where:
            column = phrase_column.get(phrase)
            if column is not None:
                present[n, column] = True
    kinds_ok = np.ones((len(KINDS), members), dtype=bool)
    regions_ok = np.ones((len(REGIONS) + 1, members), dtype=bool)
    for m, profile in enumerate(profiles.profiles):
        if profile.member.kinds:
            kinds_ok[:, m] = [k in profile.member.kinds for k in KINDS]
        if profile.member.regions:
            regions_ok[:len(REGIONS), m] = [r in profile.member.regions for r in REGIONS]
    allowed = kinds_ok[kind] & regions_ok[region]
    keyword_hits = np.zeros((count, members))
    excluded = np.zeros((count, members), dtype=bool)
    quoting: list[list[tuple[Rule, set[int]]]] = [[] for _ in range(members)]  # rules and the items they quote
    for m, profile in enumerate(profiles.profiles):
        for rule in profile.keywords:
            holds, evidence = _holds(rule.expr, present, phrase_column)
            keyword_hits[:, m] += holds & evidence
            quoting[m].append((rule, set(np.flatnonzero(holds & evidence).tolist())))
        for rule in profile.exclude:
            excluded[:, m] |= _holds(rule.expr, present, phrase_column)[0]
    cpv_hits = np.zeros((count, members))
    with_cpv = [n for n, item in enumerate(items) if item.cpv]
    for n in with_cpv:
        for m in profiles.with_cpv:
            cpv_hits[n, m] = sum(1 for prefix in profiles.profiles[m].member.cpv
                                 if any(c.startswith(prefix) for c in items[n].cpv))
    # sums over the topics each member follows, column by column (no BLAS: it would spawn threads)
    topic_score = np.zeros((count, members))
    topic_any = np.zeros((count, members), dtype=bool)
    for column in range(len(topics)):
        topic_score += scores[:, column:column + 1] * follows[column]
        topic_any |= (tagged[:, column:column + 1] > 0) & (follows[column] > 0)
    reasons_any = topic_any | (keyword_hits > 0) | (cpv_hits > 0)
    total = topic_score + KEYWORD_SCORE * keyword_hits + CPV_SCORE * cpv_hits
    minimum = np.array([p.member.min_score for p in profiles.profiles])
    matched = allowed & ~excluded & reasons_any & (total >= minimum)
    rows, cols = np.nonzero(matched)  # by item, then member
    member_of = [p.member for p in profiles.profiles]
    last, item, said, result = -1, items[0], {}, out[0]
    listed: tuple[str, ...] = ()
    ordered: dict[tuple[tuple[str, ...], int], list[str]] = {}
    for n, m, score, keywords in zip(rows.tolist(), cols.tolist(), np.round(total[rows, cols], 2).tolist(),
                                     keyword_hits[rows, cols].tolist(), strict=True):
        if n != last:  # a topic gives the same reason to every member: written once per item
            last, item, result = n, items[n], out[n]
            said = {t: f"topic {t}: {tag.evidence[0] if tag.evidence else 'tagged'}" for t, tag in item.topics.items()}
            listed = tuple(said)
        member = member_of[m]
        # the item's topics that the member follows, in the member's order (the same few sets recur)
        followed = ordered.get((listed, m))
        if followed is None:
            order = profiles_order[m]
            followed = ordered[(listed, m)] = sorted([t for t in listed if t in order], key=order.__getitem__)
        reasons = [said[t] for t in followed]
        if keywords:
            for rule, quoted_items in quoting[m]:
                if n in quoted_items:
                    quoted = evaluate(rule.expr, found.get(n, {})) or []
                    reasons.append(f"keyword {rule.text!r}: {', '.join(quoted)}")
        if member.cpv and item.cpv:
            for prefix in member.cpv:
                code = next((c for c in item.cpv if c.startswith(prefix)), None)
                if code:
                    reasons.append(f"CPV {code} matches {prefix}")
        result[member.id] = MemberMatch(score, reasons)
    return out
