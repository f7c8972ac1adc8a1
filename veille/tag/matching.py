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

from veille.keywords import And, Expr, Not, Or, Phrase, evaluate
from veille.models import KINDS, REGIONS, Item, MemberMatch, region_of
from veille.tag.batch import Entries
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
    entries = _concatenate(tagged)
    chosen = _with_reasons(len(items), entries.item, found, with_cpv)
    if not chosen.size:
        return out
    row_of = np.full(len(items), -1, dtype=np.int64)
    row_of[chosen] = np.arange(chosen.size)
    count = chosen.size
    chosen_items = [items[n] for n in chosen.tolist()]
    # topics the members follow: columns; rank[m, c]: position of topic c in member m's list
    topic_column, follows, rank = _followed(profiles)
    useful, e_row, e_column = _followed_entries(entries, topic_ids, topic_column, row_of)
    topic_score, topic_any = _topic_sums(count, e_row, e_column, entries.score[useful], follows)
    allowed = _allowed(profiles, _kind_region(chosen_items))
    present, phrase_column = _present(profiles, found, row_of, count)
    keyword_hits, excluded, quoting = _keywords(profiles, present, phrase_column)
    cpv_hits = _cpv_hits(items, profiles, with_cpv, row_of, count)
    reasons_any = topic_any | (keyword_hits > 0) | (cpv_hits > 0)
    total = topic_score + KEYWORD_SCORE * keyword_hits + CPV_SCORE * cpv_hits
    minimum = np.array([p.member.min_score for p in profiles.profiles])
    matched = allowed & ~excluded & reasons_any & (total >= minimum)
    rows, cols = np.nonzero(matched)  # by item, then member
    if not rows.size:
        return out
    reasons = _topic_reasons(rows, cols, e_row, e_column, follows, rank,
                             [topic_ids[t] for t in entries.topic[useful].tolist()],
                             [entries.first[k] for k in useful.tolist()])
    _add_keyword_reasons(reasons, rows, cols, matched, quoting, found, chosen.tolist())
    if profiles.with_cpv and with_cpv:
        _add_cpv_reasons(reasons, rows, cols, cpv_hits, profiles, chosen_items)
    return _matches_into(out, profiles, chosen[rows], cols, total[rows, cols], reasons)


def _matches_into(out: list[dict[str, MemberMatch]], profiles: Profiles, item: np.ndarray, member: np.ndarray,
                  total: np.ndarray, reasons: list[list[str]]) -> list[dict[str, MemberMatch]]:
    """Return `out` (changed in place) with the MemberMatch of each matched pair (`item`, `member`), given its
    total score and reasons; pairs by item, then member."""
    matches = list(map(MemberMatch, np.round(total, 2).tolist(), reasons))
    member_ids = [p.member.id for p in profiles.profiles]
    ids = [member_ids[m] for m in member.tolist()]
    for n, member_id, match in zip(item.tolist(), ids, matches, strict=True):  # by item, then member
        out[n][member_id] = match
    return out


def _concatenate(tagged: Sequence[Entries]) -> Entries:
    """Return the entries of every batch as one."""
    if not tagged:
        return Entries(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), [])
    return Entries(np.concatenate([e.item for e in tagged]), np.concatenate([e.topic for e in tagged]),
                   np.concatenate([e.score for e in tagged]), [text for e in tagged for text in e.first])


def _with_reasons(count: int, entry_item: np.ndarray, found: Mapping[int, Mapping[str, str]],
                  with_cpv: Sequence[int]) -> np.ndarray:
    """Return the positions of the items with a topic, a profile phrase or a CPV code, in order (an item with
    none of them gives no member a reason)."""
    has = np.zeros(count, dtype=bool)
    has[entry_item] = True
    has[list(found)] = True
    has[list(with_cpv)] = True
    return np.flatnonzero(has)


def _followed(profiles: Profiles) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """Return (column, follows, rank) of the topics the members follow, sorted: the column of each topic,
    whether topic column c is followed by member m (follows[c, m]) and at which position (rank[m, c])."""
    members = len(profiles.profiles)
    followed_topics = sorted({t for p in profiles.profiles for t in p.member.topics})
    topic_column = {t: n for n, t in enumerate(followed_topics)}
    follows = np.zeros((len(followed_topics), members), dtype=bool)
    rank = np.zeros((members, len(followed_topics)), dtype=np.int64)
    for m, profile in enumerate(profiles.profiles):
        for position, topic in enumerate(profile.member.topics):
            follows[topic_column[topic], m] = True
            rank[m, topic_column[topic]] = position
    return topic_column, follows, rank


def _followed_entries(entries: Entries, topic_ids: Sequence[str], topic_column: Mapping[str, int],
                      row_of: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (useful, row, column) of the entries of followed topics, by row: their positions in `entries`,
    their items' rows and their topics' columns."""
    column_of = np.array([topic_column.get(t, -1) for t in topic_ids], dtype=np.int64)
    entry_column = column_of[entries.topic] if entries.topic.size else entries.topic
    useful = np.flatnonzero(entry_column >= 0)  # entries of followed topics, by row
    useful = useful[np.argsort(row_of[entries.item[useful]], kind="stable")]
    return useful, row_of[entries.item[useful]], entry_column[useful]


def _topic_sums(count: int, e_row: np.ndarray, e_column: np.ndarray, e_score: np.ndarray,
                follows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (score, any) per row and member: the sum of the scores of the row's topics the member follows,
    and whether there is one."""
    scores = np.zeros((count, follows.shape[0]))
    scores[e_row, e_column] = e_score
    is_tagged = np.zeros((count, follows.shape[0]), dtype=bool)
    is_tagged[e_row, e_column] = True
    # sums over the topics each member follows (einsum's own loops, not BLAS, which would start threads;
    # the scores are multiples of 0.5, so any order of addition gives the same sums)
    topic_score = np.einsum("it,tm->im", scores, follows.astype(float))
    topic_any = np.einsum("it,tm->im", is_tagged.astype(float), follows.astype(float)) > 0
    return topic_score, topic_any


def _kind_region(chosen_items: Sequence[Item]) -> np.ndarray:
    """Return the kind and region of each row as one code: kind * (regions + 1) + region (the last: no region
    known)."""
    kind_country = list(map(_KIND_COUNTRY, chosen_items))
    code_of = {(kind, country): _KIND.get(kind, 0) * (len(REGIONS) + 1) +
               _REGION.get(region_of(country) or "", len(REGIONS)) for kind, country in set(kind_country)}
    return np.array([code_of[k] for k in kind_country], dtype=np.int64)


def _allowed(profiles: Profiles, kind_region: np.ndarray) -> np.ndarray:
    """Return whether each row's kind and region are allowed for each member (rows by members)."""
    members = len(profiles.profiles)
    kinds_ok = np.ones((len(KINDS), members), dtype=bool)
    regions_ok = np.ones((len(REGIONS) + 1, members), dtype=bool)
    for m, profile in enumerate(profiles.profiles):
        if profile.member.kinds:
            kinds_ok[:, m] = [k in profile.member.kinds for k in KINDS]
        if profile.member.regions:
            regions_ok[:len(REGIONS), m] = [r in profile.member.regions for r in REGIONS]
    return (kinds_ok[:, None, :] & regions_ok[None, :, :]).reshape(-1, members)[kind_region]


def _present(profiles: Profiles, found: Mapping[int, Mapping[str, str]], row_of: np.ndarray,
             count: int) -> tuple[np.ndarray, dict[str, int]]:
    """Return (present, column): which profile phrases each row contains (rows by phrases, sorted) and the
    column of each phrase."""
    phrases = sorted(profile_phrases(profiles))
    phrase_column = {p: n for n, p in enumerate(phrases)}
    present = np.zeros((count, len(phrases)), dtype=bool)
    for n, where in found.items():
        for phrase in where:
            column = phrase_column.get(phrase)
            if column is not None:
                present[row_of[n], column] = True
    return present, phrase_column


def _keywords(profiles: Profiles, present: np.ndarray, phrase_column: Mapping[str, int]) -> tuple[
        np.ndarray, np.ndarray, list[list[tuple[Rule, np.ndarray]]]]:
    """Return (hits, excluded, quoting): per row and member the number of keyword rules holding with evidence
    and whether an exclusion holds, and per member its keyword rules with the rows they quote."""
    count, members = present.shape[0], len(profiles.profiles)
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
    return keyword_hits, excluded, quoting


def _cpv_hits(items: Sequence[Item], profiles: Profiles, with_cpv: Sequence[int], row_of: np.ndarray,
              count: int) -> np.ndarray:
    """Return, per row and member, how many of the member's CPV prefixes one of the item's codes starts with."""
    cpv_hits = np.zeros((count, len(profiles.profiles)))
    for n in with_cpv:
        for m in profiles.with_cpv:
            cpv_hits[row_of[n], m] = sum(1 for prefix in profiles.profiles[m].member.cpv
                                         if any(c.startswith(prefix) for c in items[n].cpv))
    return cpv_hits


def _add_keyword_reasons(reasons: list[list[str]], rows: np.ndarray, cols: np.ndarray, matched: np.ndarray,
                         quoting: Sequence[Sequence[tuple[Rule, np.ndarray]]], found: Mapping[int, Mapping[str, str]],
                         chosen: Sequence[int]) -> list[list[str]]:
    """Return `reasons` (changed in place) with, for each matched (row, member) pair, "keyword <rule>: <quotes>"
    for each of the member's keyword rules quoting the row, in the member's order."""
    pair_of = np.full(matched.shape, -1, dtype=np.int64)
    pair_of[rows, cols] = np.arange(rows.size)
    for m, rules in enumerate(quoting):
        for rule, quotes in rules:
            at = np.flatnonzero(quotes & matched[:, m])
            for row, p in zip(at.tolist(), pair_of[at, m].tolist(), strict=True):
                quoted = evaluate(rule.expr, found.get(chosen[row], {})) or []
                reasons[p].append(f"keyword {rule.text!r}: {', '.join(quoted)}")
    return reasons


def _add_cpv_reasons(reasons: list[list[str]], rows: np.ndarray, cols: np.ndarray, cpv_hits: np.ndarray,
                     profiles: Profiles, chosen_items: Sequence[Item]) -> list[list[str]]:
    """Return `reasons` (changed in place) with, for each matched pair of a member with CPV prefixes, "CPV <code>
    matches <prefix>" for each of the member's prefixes one of the item's codes starts with."""
    has_cpv = np.zeros(len(profiles.profiles), dtype=bool)
    has_cpv[list(profiles.with_cpv)] = True
    for p in np.flatnonzero(has_cpv[cols] & (cpv_hits[rows, cols] > 0)).tolist():
        codes = chosen_items[rows[p]].cpv
        for prefix in profiles.profiles[cols[p]].member.cpv:
            code = next((c for c in codes if c.startswith(prefix)), None)
            if code:
                reasons[p].append(f"CPV {code} matches {prefix}")
    return reasons


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
