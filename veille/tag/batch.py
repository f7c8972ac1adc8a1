"""Topic scores and profile phrases of many items at once: one automaton pass, then numpy (pure functions).

The items' texts are folded and joined into one string (every boundary a double space, which no
phrase can cross) and scanned once. Each hit is expanded to the rules of its pattern (`hits.py`, which
also does step 1), and the rules of `rules.py` are applied to whole arrays of hits:

1. rules of another language than the item's are dropped (English and language-neutral ones stay);
2. per item, field and owner, the longest non-overlapping hits are kept (greedy: longest, then strong
   before weak, then leftmost), computed in rounds, each round keeping the best remaining hit of every
   group and dropping those overlapping it;
3. a hit strictly inside a longer strong hit of another topic is dropped ("treated wastewater" is reuse);
4. a hit with an excluding phrase of its topic within EXCLUDE_WINDOW characters is dropped;
5. a term counts once per field (same text, case aside); scores add up per item and topic; a topic with
   ambiguous words alone counts each of them once per item, in its best field, whatever its spelling (case,
   accents, singular or plural): one ambiguous word is not evidence twice for being in both the title and the
   summary ("mines", "laboratoires", a utility's name).

Python only touches what is kept: the words quoted as evidence, and the found profile phrases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from veille.models import TopicTag
from veille.tag.hits import Compiled, Hits, find_hits
from veille.tag.matcher import Matcher
from veille.text import phrase_key

FIELDS = ("title", "summary")
QUOTE_SUFFIX = tuple(f"' in {name}" for name in FIELDS)  # "'PVDF' in title"
FIELD_WEIGHT = (2.0, 1.0)
KIND_WEIGHT = np.array([1.0, 0.5, 0.0, 0.0])
KIND_ORDER = np.array([0, 1, 2, 0])  # longest first, then strong (and phrases) before weak
EXCLUDE_WINDOW = 30  # characters: an excluding context this close cancels a term ("membrane … EPDM")
MAX_EVIDENCE = 4
THRESHOLD = 1.0
WEAK_ONLY_THRESHOLD = 1.5  # ambiguous words alone: two different ones (one in the title, or three)


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
    # 1. hits of every rule in the items' language (hits.py)
    h = find_hits(compiled, matcher, titles, summaries, langs, languages)
    if h is None:
        return Scored({}, {}, {})
    length = h.end - h.start
    owners = len(compiled.topics) + len(compiled.phrases)
    group = (h.item * 2 + h.field) * owners + h.owner
    # 2. longest non-overlapping hits per item, field and owner (scoring terms; profile phrases)
    order = _preference(h, group, length)
    kept = _greedy(group, h.start, h.end, order)
    out = Scored({}, {}, _found_phrases(compiled, h, length, owners))
    if not kept.size:
        return out
    # 3. and 4.: not inside a longer strong hit of another topic, nor near an excluding phrase
    survivors = _far_from_exclusions(h, _outside_longer_strong(h, kept, length), group)
    # 5. a term once per field, then scores per item and topic
    counted = _once_per_field(h, _by_preference(h, order, survivors), group, length)
    topics = len(compiled.topics)
    pair, score, strong, wanted = _topic_scores(h, counted, len(titles), topics, need_all)
    keys = np.flatnonzero(wanted)  # (item, topic) pairs, by item then topic
    if not keys.size:
        return out
    notes = _evidence(h, counted[wanted[pair]], pair[wanted[pair]])
    return _fill(out, compiled.topics, keys, score, strong, notes, need_all)


def _preference(h: Hits, group: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Return the scoring hits (strong and weak terms) by group, then longest, strong before weak, leftmost."""
    scoring = np.flatnonzero(h.kind <= 1)
    return scoring[np.lexsort((h.start[scoring], KIND_ORDER[h.kind[scoring]], -length[scoring], group[scoring]))]


def _found_phrases(compiled: Compiled, h: Hits, length: np.ndarray, owners: int) -> dict[int, dict[str, str]]:
    """Return {item: {profile phrase: where ("'PVDF' in title")}}, quoting the hit in the title first, then
    the longest, then the leftmost."""
    phrase = np.flatnonzero(h.kind == 3)
    phrase_order = phrase[np.lexsort((h.start[phrase], -length[phrase], h.field[phrase], h.owner[phrase],
                                      h.item[phrase]))]
    phrase_group = h.item * owners + h.owner
    phrase_kept = _greedy_first(phrase_group, phrase_order)
    found: dict[int, dict[str, str]] = {}
    shift, original = len(compiled.topics), h.text
    for i, s, e, f, owner in zip(h.item[phrase_kept].tolist(), h.start[phrase_kept].tolist(),
                                 h.end[phrase_kept].tolist(), h.field[phrase_kept].tolist(),
                                 h.owner[phrase_kept].tolist(), strict=True):
        found.setdefault(i, {})[compiled.phrases[owner - shift]] = f"'{original[s:e]}{QUOTE_SUFFIX[f]}"
    return found


def _outside_longer_strong(h: Hits, kept: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Return the kept hits not strictly inside a longer strong hit of another topic in the same field, by
    item and field."""
    by_field = kept[np.argsort(h.item[kept] * 2 + h.field[kept], kind="stable")]
    field_group = h.item[by_field] * 2 + h.field[by_field]
    drop = np.zeros(by_field.size, dtype=bool)
    span = int(np.bincount(field_group - field_group.min()).max()) if by_field.size else 0
    for left, right in _pairs_within(field_group, span):
        a, b = by_field[left], by_field[right]  # is a inside b?
        drop[left] |= ((h.kind[b] == 0) & (h.owner[b] != h.owner[a]) & (h.start[b] <= h.start[a]) &
                       (h.end[a] <= h.end[b]) & (length[b] > length[a]))
    return by_field[~drop]


def _far_from_exclusions(h: Hits, survivors: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Return the survivors with no excluding phrase of their topic within EXCLUDE_WINDOW in the same field."""
    excluded = np.flatnonzero(h.kind == 2)
    if not (excluded.size and survivors.size):
        return survivors
    both = np.concatenate((survivors, excluded))
    both = both[np.argsort(group[both], kind="stable")]
    g = group[both]
    near = np.zeros(h.item.size, dtype=bool)
    span = int(np.unique(g, return_counts=True)[1].max())
    for left, right in _pairs_within(g, span):
        a, b = both[left], both[right]
        hit = ((h.kind[a] <= 1) & (h.kind[b] == 2) & (h.start[b] - EXCLUDE_WINDOW < h.end[a]) &
               (h.start[a] < h.end[b] + EXCLUDE_WINDOW))
        near[a[hit]] = True
    return survivors[~near[survivors]]


def _by_preference(h: Hits, order: np.ndarray, survivors: np.ndarray) -> np.ndarray:
    """Return the survivors back in preference order (by item, title first, per owner longest first), for
    counting and quoting."""
    survivors = survivors[np.argsort(_rank(order, survivors), kind="stable")]
    return survivors[np.lexsort((h.field[survivors], h.item[survivors]))]


def _once_per_field(h: Hits, survivors: np.ndarray, group: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Return the survivors that count: a term once per field (same text, case aside), in the same order."""
    # only hits of one group and one length can repeat a text, so only those are compared as strings
    group_of, length_of = group[survivors], length[survivors]
    runs = np.lexsort((length_of, group_of))  # stable: preference order within a run
    ordered = survivors[runs]
    same = np.zeros(runs.size, dtype=bool)
    same[1:] = (group_of[runs][1:] == group_of[runs][:-1]) & (length_of[runs][1:] == length_of[runs][:-1])
    suspect = same.copy()
    suspect[:-1] |= same[1:]
    repeated = np.zeros(h.item.size, dtype=bool)
    seen: set[tuple[int, str]] = set()
    original = h.text
    for n in ordered[suspect].tolist():
        text_key = (int(group[n]), original[h.start[n]:h.end[n]].casefold())
        if text_key in seen:
            repeated[n] = True
        seen.add(text_key)
    return survivors[~repeated[survivors]]


def _topic_scores(h: Hits, counted: np.ndarray, count: int, topics: int,
                  need_all: Sequence[bool]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (pair, score, strong, wanted): the (item * topics + topic) pair of each counted hit, then per
    pair the score, whether a strong term counted and whether the topic is given or needed."""
    pair = h.item[counted] * topics + h.owner[counted]
    weight = KIND_WEIGHT[h.kind[counted]] * np.where(h.field[counted] == 0, FIELD_WEIGHT[0], FIELD_WEIGHT[1])
    score = np.bincount(pair, weights=weight, minlength=count * topics)
    strong = np.bincount(pair, weights=(h.kind[counted] == 0).astype(float), minlength=count * topics) > 0
    weak_only = ~strong[pair] & (score[pair] >= WEAK_ONLY_THRESHOLD)
    if weak_only.any():  # only there can a repeated word make the difference: the rare pairs, in Python
        score -= np.bincount(pair, weights=weight * _repeated(h, counted, pair, weak_only),
                             minlength=count * topics)
    wanted = (score >= np.where(strong, THRESHOLD, WEAK_ONLY_THRESHOLD)) & (score > 0)
    wanted |= np.repeat(np.asarray(need_all, dtype=bool), topics) & (score > 0)
    return pair, score, strong, wanted


def _repeated(h: Hits, counted: np.ndarray, pair: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Whether each counted hit (of the pairs marked `among`) spells a word its pair already has, in the title or
    earlier in the same field (`phrase_key`: case, accents and plurals aside)."""
    repeated = np.zeros(counted.size, dtype=bool)
    seen: set[tuple[int, str]] = set()
    original = h.text
    marked = np.flatnonzero(among)
    for k in marked[np.lexsort((h.start[counted[marked]], h.field[counted[marked]]))].tolist():  # titles first
        n = int(counted[k])
        key = (int(pair[k]), phrase_key(original[h.start[n]:h.end[n]]))
        repeated[k] = key in seen
        seen.add(key)
    return repeated


def _evidence(h: Hits, quoted: np.ndarray, quoted_pair: np.ndarray) -> list[list[str]]:
    """Return, per wanted (item, topic) pair in order, the quotes of its first MAX_EVIDENCE counted hits (title
    first); `quoted` are the counted hits of wanted pairs, `quoted_pair` their pairs."""
    # every wanted pair has at least one hit (its score is positive), so the runs line up with the pairs
    by_pair = np.argsort(quoted_pair, kind="stable")
    sorted_pair = quoted_pair[by_pair]
    first = np.ones(sorted_pair.size, dtype=bool)
    first[1:] = sorted_pair[1:] != sorted_pair[:-1]
    place = np.arange(sorted_pair.size)
    within = place - np.maximum.accumulate(np.where(first, place, 0)) < MAX_EVIDENCE
    quote = quoted[by_pair][within]
    original = h.text
    texts = [f"'{original[s:e]}{QUOTE_SUFFIX[f]}"
             for s, e, f in zip(h.start[quote].tolist(), h.end[quote].tolist(), h.field[quote].tolist(), strict=True)]
    bounds = [*np.flatnonzero(first[within]).tolist(), len(texts)]
    return [texts[a:b] for a, b in pairwise(bounds)]


def _fill(out: Scored, names: tuple[str, ...], keys: np.ndarray, score: np.ndarray, strong: np.ndarray,
          notes: list[list[str]], need_all: Sequence[bool]) -> Scored:
    """Return `out` (changed in place) with the wanted (item, topic) `keys`: (score, strong, evidence) for
    items that need all their topics, TopicTags and their entries for the others."""
    topics = len(names)
    item_of, topic_of = keys // topics, keys % topics
    need = np.asarray(need_all, dtype=bool)[item_of]
    for k in np.flatnonzero(need).tolist():
        out.topics.setdefault(int(item_of[k]), {})[names[topic_of[k]]] = (
            float(score[keys[k]]), bool(strong[keys[k]]), notes[k])
    final = np.flatnonzero(~need)
    if not final.size:
        return out
    if final.size < keys.size:
        notes = [notes[k] for k in final.tolist()]
    out.final, out.entries = _final_tags(names, item_of[final], topic_of[final], score[keys[final]], notes)
    return out


def _final_tags(names: tuple[str, ...], f_item: np.ndarray, f_topic: np.ndarray, score: np.ndarray,
                notes: list[list[str]]) -> tuple[dict[int, dict[str, TopicTag]], Entries]:
    """Return {item: {topic: TopicTag}} of the final (item, topic) pairs (by item), and the same as Entries."""
    rounded = np.round(score, 2)
    tags = list(map(TopicTag, rounded.tolist(), notes))
    tag_names = [names[t] for t in f_topic.tolist()]
    final_tags: dict[int, dict[str, TopicTag]] = {}
    last = -1
    for n, name, tag in zip(f_item.tolist(), tag_names, tags, strict=True):  # entries by item
        if n != last:
            item_tags = final_tags[n] = {name: tag}
            last = n
        else:
            item_tags[name] = tag
    return final_tags, Entries(f_item, f_topic, rounded, [n[0] for n in notes])


def _greedy_first(group: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The first hit of each group in `order` (sorted by group, then preference)."""
    if not order.size:
        return order
    g = group[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = g[1:] != g[:-1]
    return order[first]
