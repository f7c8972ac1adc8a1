"""Topic scores and profile phrases of many items at once: one automaton pass, then numpy (pure functions).

The items' texts are folded and joined into one string (every boundary a double space, which no
phrase can cross) and scanned once. Each hit is expanded to the rules of its pattern, and the rules
of `rules.py` are applied to whole arrays of hits:

1. rules of another language than the item's are dropped (English and language-neutral ones stay);
2. per item, field and owner, the longest non-overlapping hits are kept (greedy: longest, then strong
   before weak, then leftmost), computed in rounds, each round keeping the best remaining hit of every
   group and dropping those overlapping it;
3. a hit strictly inside a longer strong hit of another topic is dropped ("treated wastewater" is reuse);
4. a hit with an excluding phrase of its topic within EXCLUDE_WINDOW characters is dropped;
5. a term counts once per field (same text, case aside); scores add up per item and topic.

Python only touches what is kept: the words quoted as evidence, and the found profile phrases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, pairwise

import numpy as np

from veille.models import TopicTag
from veille.tag.matcher import EXCLUDE, PHRASE, STRONG, WEAK, Matcher

SEPARATOR = "  "  # between title and summary, and between items: no phrase runs across it
FIELDS = ("title", "summary")
FIELD_WEIGHT = (2.0, 1.0)
KIND_CODE = {STRONG: 0, WEAK: 1, EXCLUDE: 2, PHRASE: 3}
KIND_WEIGHT = np.array([1.0, 0.5, 0.0, 0.0])
KIND_ORDER = np.array([0, 1, 2, 0])  # longest first, then strong (and phrases) before weak
EXCLUDE_WINDOW = 30  # characters: an excluding context this close cancels a term ("membrane … EPDM")
MAX_EVIDENCE = 4
THRESHOLD = 1.0
WEAK_ONLY_THRESHOLD = 1.5  # ambiguous words alone must repeat (title and summary) to count


@dataclass(frozen=True)
class Compiled:
    """The matcher's rules as flat arrays: pattern p owns rules ptr[p]:ptr[p + 1]."""

    ptr: np.ndarray
    kind: np.ndarray
    owner: np.ndarray  # topic index, or len(topics) + phrase index
    lang: np.ndarray  # 0: any, 1: en, 2…: other languages
    has_exact: np.ndarray  # patterns of case-sensitive abbreviations
    topics: tuple[str, ...]
    phrases: tuple[str, ...]
    lang_codes: dict[str, int]


def compile_rules(matcher: Matcher, topics: Sequence[str]) -> Compiled:
    topic_index = {t: n for n, t in enumerate(topics)}
    phrases = sorted({r.owner for rules in matcher.rules for r in rules if r.kind == PHRASE} |
                     {r.owner for forms in matcher.exact if forms for rules in forms.values() for r in rules
                      if r.kind == PHRASE})
    phrase_index = {p: len(topics) + n for n, p in enumerate(phrases)}
    langs = {"any": 0, "en": 1}
    ptr, kind, owner, lang = [0], [], [], []
    for rules in matcher.rules:
        for rule in rules:
            kind.append(KIND_CODE[rule.kind])
            owner.append(phrase_index[rule.owner] if rule.kind == PHRASE else topic_index[rule.owner])
            lang.append(langs.setdefault(rule.lang, len(langs)))
        ptr.append(len(kind))
    for forms in matcher.exact:
        for rules in (forms or {}).values():
            for rule in rules:
                langs.setdefault(rule.lang, len(langs))
    return Compiled(np.array(ptr, dtype=np.int64), np.array(kind, dtype=np.int64), np.array(owner, dtype=np.int64),
                    np.array(lang, dtype=np.int64), np.array([f is not None for f in matcher.exact], dtype=bool),
                    tuple(topics), tuple(phrases), langs)


@dataclass
class Scored:
    """What the batch found, by item number (items with nothing are absent from the dicts)."""

    # topic -> (score, has a strong term, evidence) where the item's CPV codes or source may add to it;
    # else topic -> TopicTag, final (the words reached the threshold)
    topics: dict[int, dict[str, tuple[float, bool, list[str]]]]
    final: dict[int, dict[str, TopicTag]]
    phrases: dict[int, dict[str, str]]  # profile phrase -> where ("'PVDF' in title")
    entries: Entries | None = None  # the final topics, flat


@dataclass(frozen=True)
class Entries:
    """Topics given to items, flat: entry k is topic `topic[k]` (an index) of item `item[k]`, with its
    score and first evidence."""

    item: np.ndarray
    topic: np.ndarray
    score: np.ndarray
    first: list[str]


def _greedy(group: np.ndarray, start: np.ndarray, end: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Indices (into the arrays) of the hits kept by longest-first interval selection within each group.

    `order` sorts the hits by group, then by preference; returns kept indices in that order."""
    remaining = order
    kept: list[np.ndarray] = []
    while remaining.size:
        g = group[remaining]
        first = np.ones(remaining.size, dtype=bool)
        first[1:] = g[1:] != g[:-1]
        best = remaining[first]
        kept.append(best)
        # the best hit of each hit's group, broadcast along the group
        leader = remaining[np.maximum.accumulate(np.where(first, np.arange(remaining.size), 0))]
        overlaps = (start[remaining] < end[leader]) & (start[leader] < end[remaining])
        remaining = remaining[~first & ~overlaps]
    if not kept:
        return np.array([], dtype=np.int64)
    out = np.concatenate(kept)
    return out[np.argsort(_rank(order, out), kind="stable")]


def _rank(order: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Position of each chosen index within `order` (to give the kept hits back in preference order)."""
    position = np.empty(order.max() + 1 if order.size else 0, dtype=np.int64)
    position[order] = np.arange(order.size)
    return position[chosen]


def _pairs_within(group: np.ndarray, max_span: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(i, j) index pairs of distinct elements sharing a group, for arrays sorted by group."""
    out = []
    n = group.size
    for d in range(1, max_span):
        i = np.arange(n - d)
        j = i + d
        same = group[i] == group[j]
        if not same.any():
            break
        out.append((i[same], j[same]))
        out.append((j[same], i[same]))
    return out


def score_batch(compiled: Compiled, matcher: Matcher, titles: Sequence[str], summaries: Sequence[str],
                langs: Sequence[str | None], languages: frozenset[str],
                need_all: Sequence[bool] | None = None) -> Scored:
    """Scan and score every item's title and summary (strings, empty when absent); see the module docstring.

    Each item gets the topics whose words reach the threshold; with `need_all[n]` (an item whose CPV
    codes or source may add to the words) every topic with a word, whatever its score."""
    need_all = need_all if need_all is not None else [True] * len(titles)
    count = len(titles)
    title_length = np.fromiter(map(len, titles), dtype=np.int64, count=count)
    summary_length = np.fromiter(map(len, summaries), dtype=np.int64, count=count)
    block = np.zeros(count + 1, dtype=np.int64)  # where each item's " title  summary " starts
    np.cumsum(title_length + summary_length + 2 + len(SEPARATOR), out=block[1:])
    title_end = block[:-1] + 1 + title_length
    original = "".join([f" {t}{SEPARATOR}{s} " for t, s in zip(titles, summaries, strict=True)])
    found = matcher.scan_raw(original)
    out = Scored({}, {}, {})
    if not found:
        return out
    raw = np.fromiter(chain.from_iterable(found), dtype=np.int64, count=3 * len(found)).reshape(-1, 3)
    pattern, s_pad, e_pad = raw[:, 0], raw[:, 1], raw[:, 2]
    start, end = s_pad + 1, e_pad - 1  # the padded pattern " form " spans [s, e); the form [s + 1, e - 1)
    item = np.searchsorted(block, start, side="right") - 1
    # expand each match to its pattern's rules
    plain = ~compiled.has_exact[pattern]
    counts = compiled.ptr[pattern + 1] - compiled.ptr[pattern]
    which = np.repeat(np.arange(pattern.size), counts)
    rule = np.repeat(compiled.ptr[pattern], counts) + (np.arange(which.size) - np.repeat(np.cumsum(counts) - counts,
                                                                                          counts))
    h_item, h_start, h_end = item[which], start[which], end[which]
    h_kind, h_owner, h_lang = compiled.kind[rule], compiled.owner[rule], compiled.lang[rule]
    # case-sensitive abbreviations: the original text must show the token exactly (few: plain Python)
    extra: list[tuple[int, int, int, int, int, int]] = []
    topic_index = {t: n for n, t in enumerate(compiled.topics)}
    for m in np.flatnonzero(~plain):
        forms = matcher.exact[int(pattern[m])] or {}
        s, e = int(start[m]), int(end[m])
        for r in forms.get(original[s:e], ()):
            owner = topic_index[r.owner] if r.kind != PHRASE else len(compiled.topics) + compiled.phrases.index(r.owner)
            extra.append((int(item[m]), s, e, KIND_CODE[r.kind], owner, compiled.lang_codes[r.lang]))
    if extra:
        more = np.array(extra, dtype=np.int64)
        h_item = np.concatenate((h_item, more[:, 0]))
        h_start = np.concatenate((h_start, more[:, 1]))
        h_end = np.concatenate((h_end, more[:, 2]))
        h_kind = np.concatenate((h_kind, more[:, 3]))
        h_owner = np.concatenate((h_owner, more[:, 4]))
        h_lang = np.concatenate((h_lang, more[:, 5]))
    # field: title, summary, or neither (a hit across the separator)
    in_title = h_end <= title_end[h_item]
    in_summary = h_start >= title_end[h_item] + len(SEPARATOR)
    keep = in_title | in_summary
    h_field = np.where(in_title, 0, 1)
    # 1. language of the rules
    codes: dict[str | None, int] = {lang: code for lang, code in compiled.lang_codes.items() if lang in languages}
    item_lang = np.array([codes.get(lang, -1) for lang in langs], dtype=np.int64)  # -1: unknown, every rule
    il = item_lang[h_item]
    keep &= (h_kind == 3) | (il < 0) | (h_lang <= 1) | (h_lang == il)
    idx = np.flatnonzero(keep)
    h_item, h_field, h_start, h_end = h_item[idx], h_field[idx], h_start[idx], h_end[idx]
    h_kind, h_owner = h_kind[idx], h_owner[idx]
    length = h_end - h_start
    owners = len(compiled.topics) + len(compiled.phrases)
    group = (h_item * 2 + h_field) * owners + h_owner
    # 2. longest non-overlapping hits per item, field and owner (scoring terms; profile phrases)
    scoring = np.flatnonzero(h_kind <= 1)
    order = scoring[np.lexsort((h_start[scoring], KIND_ORDER[h_kind[scoring]], -length[scoring], group[scoring]))]
    kept = _greedy(group, h_start, h_end, order)
    phrase = np.flatnonzero(h_kind == 3)
    phrase_order = phrase[np.lexsort((h_start[phrase], -length[phrase], h_field[phrase], h_owner[phrase],
                                      h_item[phrase]))]
    # for phrases the preference is title first, then longest, then leftmost: the first kept one is quoted
    phrase_group = h_item * owners + h_owner
    phrase_kept = _greedy_first(phrase_group, phrase_order)
    suffix = [f"' in {name}" for name in FIELDS]
    shift = len(compiled.topics)
    for i, s, e, f, owner in zip(h_item[phrase_kept].tolist(), h_start[phrase_kept].tolist(),
                                 h_end[phrase_kept].tolist(), h_field[phrase_kept].tolist(),
                                 h_owner[phrase_kept].tolist(), strict=True):
        out.phrases.setdefault(i, {})[compiled.phrases[owner - shift]] = f"'{original[s:e]}{suffix[f]}"
    if not kept.size:
        return out
    # 3. inside a longer strong hit of another topic, in the same field
    by_field = kept[np.argsort(h_item[kept] * 2 + h_field[kept], kind="stable")]
    field_group = h_item[by_field] * 2 + h_field[by_field]
    drop = np.zeros(by_field.size, dtype=bool)
    span = int(np.bincount(field_group - field_group.min()).max()) if by_field.size else 0
    for left, right in _pairs_within(field_group, span):
        a, b = by_field[left], by_field[right]  # is a inside b?
        drop[left] |= ((h_kind[b] == 0) & (h_owner[b] != h_owner[a]) & (h_start[b] <= h_start[a]) &
                    (h_end[a] <= h_end[b]) & (length[b] > length[a]))
    survivors = by_field[~drop]
    # 4. an excluding phrase of the same topic nearby, in the same field
    excluded = np.flatnonzero(h_kind == 2)
    if excluded.size and survivors.size:
        both = np.concatenate((survivors, excluded))
        both = both[np.argsort(group[both], kind="stable")]
        g = group[both]
        near = np.zeros(h_item.size, dtype=bool)
        span = int(np.unique(g, return_counts=True)[1].max())
        for left, right in _pairs_within(g, span):
            a, b = both[left], both[right]
            hit = ((h_kind[a] <= 1) & (h_kind[b] == 2) & (h_start[b] - EXCLUDE_WINDOW < h_end[a]) &
                   (h_start[a] < h_end[b] + EXCLUDE_WINDOW))
            near[a[hit]] = True
        survivors = survivors[~near[survivors]]
    # back to preference order (title first, per owner longest first) for counting and quoting
    survivors = survivors[np.argsort(_rank(order, survivors), kind="stable")]
    survivors = survivors[np.lexsort((h_field[survivors], h_item[survivors]))]
    # 5. a term once per field (same text, case aside): only hits of one group and one length can repeat
    # a text, so only those are compared as strings
    group_of, length_of = group[survivors], length[survivors]
    runs = np.lexsort((length_of, group_of))  # stable: preference order within a run
    ordered = survivors[runs]
    same = np.zeros(runs.size, dtype=bool)
    same[1:] = (group_of[runs][1:] == group_of[runs][:-1]) & (length_of[runs][1:] == length_of[runs][:-1])
    suspect = same.copy()
    suspect[:-1] |= same[1:]
    repeated = np.zeros(h_item.size, dtype=bool)
    seen: set[tuple[int, str]] = set()
    for n in ordered[suspect].tolist():
        text_key = (int(group[n]), original[h_start[n]:h_end[n]].casefold())
        if text_key in seen:
            repeated[n] = True
        seen.add(text_key)
    counted = survivors[~repeated[survivors]]
    topics = len(compiled.topics)
    pair = h_item[counted] * topics + h_owner[counted]
    weight = KIND_WEIGHT[h_kind[counted]] * np.where(h_field[counted] == 0, FIELD_WEIGHT[0], FIELD_WEIGHT[1])
    score = np.bincount(pair, weights=weight, minlength=count * topics)
    strong = np.bincount(pair, weights=(h_kind[counted] == 0).astype(float), minlength=count * topics) > 0
    wanted = (score >= np.where(strong, THRESHOLD, WEAK_ONLY_THRESHOLD)) & (score > 0)
    wanted |= np.repeat(np.asarray(need_all, dtype=bool), topics) & (score > 0)
    keys = np.flatnonzero(wanted)  # (item, topic) pairs, by item then topic
    if not keys.size:
        return out
    # evidence: the first MAX_EVIDENCE counted hits of each wanted (item, topic), title first; every
    # wanted pair has at least one (its score is positive), so the runs below line up with `keys`
    quoted = counted[wanted[pair]]
    quoted_pair = pair[wanted[pair]]
    by_pair = np.argsort(quoted_pair, kind="stable")
    sorted_pair = quoted_pair[by_pair]
    first = np.ones(sorted_pair.size, dtype=bool)
    first[1:] = sorted_pair[1:] != sorted_pair[:-1]
    place = np.arange(sorted_pair.size)
    within = place - np.maximum.accumulate(np.where(first, place, 0)) < MAX_EVIDENCE
    quote = quoted[by_pair][within]
    texts = [f"'{original[s:e]}{suffix[f]}"
             for s, e, f in zip(h_start[quote].tolist(), h_end[quote].tolist(), h_field[quote].tolist(), strict=True)]
    bounds = [*np.flatnonzero(first[within]).tolist(), len(texts)]
    notes = [texts[a:b] for a, b in pairwise(bounds)]
    item_of, topic_of = keys // topics, keys % topics
    need = np.asarray(need_all, dtype=bool)[item_of]
    names = compiled.topics
    for k in np.flatnonzero(need).tolist():
        out.topics.setdefault(int(item_of[k]), {})[names[topic_of[k]]] = (
            float(score[keys[k]]), bool(strong[keys[k]]), notes[k])
    final = np.flatnonzero(~need)
    if not final.size:
        return out
    if final.size < keys.size:
        notes = [notes[k] for k in final.tolist()]
    f_item, f_topic = item_of[final], topic_of[final]
    rounded = np.round(score[keys[final]], 2)
    tags = list(map(TopicTag, rounded.tolist(), notes))
    tag_names = [names[t] for t in f_topic.tolist()]
    final_tags, last = out.final, -1
    for n, name, tag in zip(f_item.tolist(), tag_names, tags, strict=True):  # entries by item
        if n != last:
            item_tags = final_tags[n] = {name: tag}
            last = n
        else:
            item_tags[name] = tag
    out.entries = Entries(f_item, f_topic, rounded, [n[0] for n in notes])
    return out


def _greedy_first(group: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The first hit of each group in `order` (sorted by group, then preference)."""
    if not order.size:
        return order
    g = group[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = g[1:] != g[:-1]
    return order[first]
