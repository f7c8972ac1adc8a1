"""Member matches of many items at once, on numpy arrays (pure).

Per item and member: allowed by kind and region, not excluded, and at least one reason (a followed
topic, a keyword expression holding on a found phrase, a CPV prefix); the score (topic scores, 2 per
keyword and per CPV code) must reach the member's `min_score`. Only the pairs that match build their
reasons as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from operator import attrgetter

import numpy as np

from veille.models import KINDS, REGIONS, Item, MemberMatch, region_of
from veille.tag.batch import Entries
from veille.tag.keywords import And, Expr, Not, Or, Phrase, evaluate
from veille.tag.profiles import CPV_SCORE, KEYWORD_SCORE, Profiles, Rule, profile_phrases

_KIND = {k: n for n, k in enumerate(KINDS)}
_REGION = {r: n for n, r in enumerate(REGIONS)}
_KIND_COUNTRY = attrgetter("kind", "country")


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


def match_many(items: Sequence[Item], profiles: Profiles, found: Mapping[int, Mapping[str, str]],
               topic_ids: Sequence[str], tagged: Sequence[Entries], with_cpv: Sequence[int]) -> list[
        dict[str, MemberMatch]]:
    """{member ID: MemberMatch} for each item; `found[n]` maps the profile phrases in item n to where,
    `tagged` lists the items' topics (`topic_ids[topic]` of item `item`, with score and first evidence),
    `with_cpv` the positions of the items with CPV codes."""
    out: list[dict[str, MemberMatch]] = [{} for _ in items]
    if not items or not profiles.profiles:
        return out
    entry_item = np.concatenate([e.item for e in tagged]) if tagged else np.zeros(0, dtype=np.int64)
    entry_topic = np.concatenate([e.topic for e in tagged]) if tagged else np.zeros(0, dtype=np.int64)
    entry_score = np.concatenate([e.score for e in tagged]) if tagged else np.zeros(0)
    entry_first = [text for e in tagged for text in e.first]
    # an item with no topic, no profile phrase and no CPV code gives no member a reason
    has = np.zeros(len(items), dtype=bool)
    has[entry_item] = True
    has[list(found)] = True
    has[list(with_cpv)] = True
    chosen = np.flatnonzero(has)
    if not chosen.size:
        return out
    row_of = np.full(len(items), -1, dtype=np.int64)
    row_of[chosen] = np.arange(chosen.size)
    count, members = chosen.size, len(profiles.profiles)
    chosen_items = [items[n] for n in chosen.tolist()]
    # topics the members follow: columns; rank[m, c]: position of topic c in member m's list
    followed_topics = sorted({t for p in profiles.profiles for t in p.member.topics})
    topic_column = {t: n for n, t in enumerate(followed_topics)}
    follows = np.zeros((len(followed_topics), members), dtype=bool)
    rank = np.zeros((members, len(followed_topics)), dtype=np.int64)
    for m, profile in enumerate(profiles.profiles):
        for position, topic in enumerate(profile.member.topics):
            follows[topic_column[topic], m] = True
            rank[m, topic_column[topic]] = position
    column_of = np.array([topic_column.get(t, -1) for t in topic_ids], dtype=np.int64)
    entry_column = column_of[entry_topic] if entry_topic.size else entry_topic
    useful = np.flatnonzero(entry_column >= 0)  # entries of followed topics, by row
    useful = useful[np.argsort(row_of[entry_item[useful]], kind="stable")]
    e_row, e_column = row_of[entry_item[useful]], entry_column[useful]
    scores = np.zeros((count, len(followed_topics)))
    scores[e_row, e_column] = entry_score[useful]
    is_tagged = np.zeros((count, len(followed_topics)), dtype=bool)
    is_tagged[e_row, e_column] = True
    # kind and region of each row, as one code: kind * (regions + 1) + region (the last: no region known)
    kind_country = list(map(_KIND_COUNTRY, chosen_items))
    code_of = {(kind, country): _KIND.get(kind, 0) * (len(REGIONS) + 1) +
               _REGION.get(region_of(country) or "", len(REGIONS)) for kind, country in set(kind_country)}
    kind_region = np.array([code_of[k] for k in kind_country], dtype=np.int64)
    phrases = sorted(profile_phrases(profiles))
    phrase_column = {p: n for n, p in enumerate(phrases)}
    present = np.zeros((count, len(phrases)), dtype=bool)
    for n, where in found.items():
        for phrase in where:
            column = phrase_column.get(phrase)
            if column is not None:
                present[row_of[n], column] = True
    kinds_ok = np.ones((len(KINDS), members), dtype=bool)
    regions_ok = np.ones((len(REGIONS) + 1, members), dtype=bool)
    for m, profile in enumerate(profiles.profiles):
        if profile.member.kinds:
            kinds_ok[:, m] = [k in profile.member.kinds for k in KINDS]
        if profile.member.regions:
            regions_ok[:len(REGIONS), m] = [r in profile.member.regions for r in REGIONS]
    allowed = (kinds_ok[:, None, :] & regions_ok[None, :, :]).reshape(-1, members)[kind_region]
    keyword_hits = np.zeros((count, members))
    excluded = np.zeros((count, members), dtype=bool)
    quoting: list[list[tuple[Rule, np.ndarray]]] = [[] for _ in range(members)]  # rules and the rows they quote
    for m, profile in enumerate(profiles.profiles):
        for rule in profile.keywords:
            holds, evidence = _holds(rule.expr, present, phrase_column)
            keyword_hits[:, m] += holds & evidence
            quoting[m].append((rule, holds & evidence))
        for rule in profile.exclude:
            excluded[:, m] |= _holds(rule.expr, present, phrase_column)[0]
    cpv_hits = np.zeros((count, members))
    for n in with_cpv:
        for m in profiles.with_cpv:
            cpv_hits[row_of[n], m] = sum(1 for prefix in profiles.profiles[m].member.cpv
                                         if any(c.startswith(prefix) for c in items[n].cpv))
    # sums over the topics each member follows (einsum's own loops, not BLAS, which would start threads;
    # the scores are multiples of 0.5, so any order of addition gives the same sums)
    topic_score = np.einsum("it,tm->im", scores, follows.astype(float))
    topic_any = np.einsum("it,tm->im", is_tagged.astype(float), follows.astype(float)) > 0
    reasons_any = topic_any | (keyword_hits > 0) | (cpv_hits > 0)
    total = topic_score + KEYWORD_SCORE * keyword_hits + CPV_SCORE * cpv_hits
    minimum = np.array([p.member.min_score for p in profiles.profiles])
    matched = allowed & ~excluded & reasons_any & (total >= minimum)
    rows, cols = np.nonzero(matched)  # by item, then member
    if not rows.size:
        return out
    reasons = _topic_reasons(rows, cols, e_row, e_column, follows, rank,
                             [topic_ids[t] for t in entry_topic[useful].tolist()],
                             [entry_first[k] for k in useful.tolist()])
    pair_of = np.full((count, members), -1, dtype=np.int64)
    pair_of[rows, cols] = np.arange(rows.size)
    chosen_list = chosen.tolist()
    for m in range(members):  # each pair gets its member's keywords in the member's order
        for rule, quotes in quoting[m]:
            at = np.flatnonzero(quotes & matched[:, m])
            for row, p in zip(at.tolist(), pair_of[at, m].tolist(), strict=True):
                quoted = evaluate(rule.expr, found.get(chosen_list[row], {})) or []
                reasons[p].append(f"keyword {rule.text!r}: {', '.join(quoted)}")
    if profiles.with_cpv and with_cpv:
        has_cpv = np.zeros(members, dtype=bool)
        has_cpv[list(profiles.with_cpv)] = True
        for p in np.flatnonzero(has_cpv[cols] & (cpv_hits[rows, cols] > 0)).tolist():
            codes = chosen_items[rows[p]].cpv
            for prefix in profiles.profiles[cols[p]].member.cpv:
                code = next((c for c in codes if c.startswith(prefix)), None)
                if code:
                    reasons[p].append(f"CPV {code} matches {prefix}")
    matches = list(map(MemberMatch, np.round(total[rows, cols], 2).tolist(), reasons))
    member_ids = [p.member.id for p in profiles.profiles]
    ids = [member_ids[m] for m in cols.tolist()]
    for n, member_id, match in zip(chosen[rows].tolist(), ids, matches, strict=True):  # by item, then member
        out[n][member_id] = match
    return out


def _topic_reasons(rows: np.ndarray, cols: np.ndarray, e_row: np.ndarray, e_column: np.ndarray,
                   follows: np.ndarray, rank: np.ndarray, names: list[str], first: list[str]) -> list[list[str]]:
    """For each matched (row, member) pair, "topic <id>: <first evidence>" for each of the row's topics
    the member follows, in the member's order; entries (e_row, e_column) are sorted by row."""
    per_row = np.bincount(e_row, minlength=int(rows.max()) + 1)
    row_start = np.cumsum(per_row) - per_row
    span = per_row[rows]  # the row's entries, for each pair
    pair = np.repeat(np.arange(rows.size), span)
    entry = np.repeat(row_start[rows], span) + (np.arange(pair.size) - np.repeat(np.cumsum(span) - span, span))
    member = cols[pair]
    kept = follows[e_column[entry], member]
    pair, entry, member = pair[kept], entry[kept], member[kept]
    order = np.argsort(pair * (int(rank.max(initial=0)) + 1) + rank[member, e_column[entry]])  # an item's topics differ
    pair, entry = pair[order], entry[order]
    # one text per entry (an item's topic reads the same for every member)
    texts = np.empty(len(first), dtype=object)
    texts[:] = [f"topic {name}: {quote}" for name, quote in zip(names, first, strict=True)]
    flat = texts[entry].tolist()
    bounds = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(pair, minlength=rows.size), out=bounds[1:])
    return [flat[a:b] for a, b in pairwise(bounds.tolist())]
