"""The tag stage: topics, member matches and their reasons, from pure functions."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import compress

import numpy as np

from veille.models import Item, Member, Topic
from veille.tag.batch import Entries, Scored, score_batch
from veille.tag.matching import match_many
from veille.tag.profiles import Profiles, compile_profiles, profile_phrases
from veille.tag.rules import Taxonomy, compile_taxonomy, finish_topics

__all__ = ["Tagger"]


BATCH = 2_000  # items scanned together: one automaton pass, one set of numpy arrays


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Tagging makes many small objects and no reference cycles: the cyclic collector would only walk the
    whole heap again and again (a third of the time on a large batch); reference counting frees them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class Tagger:
    """Topic rules and member profiles compiled once, applied to many items."""

    taxonomy: Taxonomy
    profiles: Profiles

    @classmethod
    def build(cls, topics: Iterable[Topic], members: Iterable[Member]) -> Tagger:
        profiles = compile_profiles(members)
        return cls(compile_taxonomy(topics, profile_phrases(profiles)), profiles)

    def tag(self, item: Item, source_topics: Iterable[str] = ()) -> Item:
        """Fill `item.topics` and `item.members` in place and return the item."""
        self.tag_many([item], [tuple(source_topics)])
        return item

    def tag_many(self, items: Sequence[Item], source_topics: Sequence[Sequence[str]] | None = None) -> None:
        """Fill `topics` and `members` of every item in place (`source_topics[n]`: topics item n's source implies)."""
        with _cyclic_gc_paused():
            self._tag_many(items, source_topics)

    def _tag_many(self, items: Sequence[Item], source_topics: Sequence[Sequence[str]] | None) -> None:
        """Return None; fill the topics of the items batch by batch, then their members (see `tag_many`)."""
        phrases: dict[int, dict[str, str]] = {}  # profile phrases found, by position in `items`
        entries: list[Entries] = []  # the topics given, for member matching
        finished: list[int] = []  # items whose CPV codes or source topics added to the words
        for begin in range(0, len(items), BATCH):
            chunk = items[begin:begin + BATCH]
            implied = source_topics[begin:begin + BATCH] if source_topics else [()] * len(chunk)
            scored, done = self._tag_topics(chunk, implied)
            finished.extend(begin + n for n in done)
            if scored.entries is not None:
                found = scored.entries
                entries.append(Entries(found.item + begin, found.topic, found.score, found.first))
            phrases.update((begin + n, found) for n, found in scored.phrases.items())
        entries.append(_entries_of(items, finished, self.taxonomy.topic_ids))
        self._tag_members(items, phrases, entries, finished)

    def _tag_topics(self, chunk: Sequence[Item], implied: Sequence[Sequence[str]]) -> tuple[Scored, list[int]]:
        """Return the batch's scores and the positions of the items whose CPV codes or source topics add to the
        words; fill the topics of every item of the batch."""
        taxonomy = self.taxonomy
        need = [bool(i.cpv or topics) for i, topics in zip(chunk, implied, strict=True)]
        scored = score_batch(taxonomy.compiled, taxonomy.matcher, [i.title or "" for i in chunk],
                             [i.summary or "" for i in chunk], [i.lang for i in chunk], taxonomy.languages, need)
        # the words alone reached the threshold: nothing to add
        for item, tags in zip(chunk, map(scored.final.get, range(len(chunk))), strict=True):
            item.topics = tags if tags is not None else {}
        finished = list(compress(range(len(chunk)), need))
        for n in finished:  # CPV codes or source topics add to the words
            item = chunk[n]
            item.topics = finish_topics(taxonomy, scored.topics.get(n, {}), implied[n], item.cpv)
        return scored, finished

    def _tag_members(self, items: Sequence[Item], phrases: dict[int, dict[str, str]], entries: list[Entries],
                     finished: list[int]) -> None:
        """Return None; fill the members of every item, once for the whole call (the profiles' arrays are set
        up once)."""
        with_cpv = [n for n in finished if items[n].cpv]  # the others have no CPV code
        for item, members in zip(items, match_many(items, self.profiles, phrases, self.taxonomy.topic_ids, entries,
                                                   with_cpv), strict=True):
            item.members = members


def _entries_of(items: Sequence[Item], chosen: Sequence[int], topic_ids: Sequence[str]) -> Entries:
    """The topics of `items[n]` for n in `chosen`, flat."""
    index = {t: n for n, t in enumerate(topic_ids)}
    rows = [(n, index[t], tag.score, tag.evidence[0] if tag.evidence else "tagged")
            for n in chosen for t, tag in items[n].topics.items() if t in index]
    if not rows:
        return Entries(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), [])
    item, topic, score, first = zip(*rows, strict=True)
    return Entries(np.array(item, dtype=np.int64), np.array(topic, dtype=np.int64), np.array(score), list(first))
