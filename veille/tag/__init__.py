"""The tag stage: topics, member matches and their reasons, from pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from veille.models import Item, Member, Topic
from veille.tag.batch import score_batch
from veille.tag.profiles import Profiles, compile_profiles, match_members, profile_phrases
from veille.tag.rules import Taxonomy, compile_taxonomy, finish_topics

__all__ = ["Tagger"]


BATCH = 2_000  # items scanned together: one automaton pass, one set of numpy arrays


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
        taxonomy = self.taxonomy
        for begin in range(0, len(items), BATCH):
            chunk = items[begin:begin + BATCH]
            implied = [source_topics[begin + n] if source_topics else () for n in range(len(chunk))]
            scored = score_batch(taxonomy.compiled, taxonomy.matcher, [i.title or "" for i in chunk],
                                 [i.summary or "" for i in chunk], [i.lang for i in chunk], taxonomy.languages,
                                 [bool(i.cpv or implied[n]) for n, i in enumerate(chunk)])
            for item, found, topics in zip(chunk, scored, implied, strict=True):
                if not (found.any_hit or item.cpv or topics):
                    item.topics, item.members = {}, {}  # most items of a feed: nothing to score
                    continue
                item.topics = finish_topics(taxonomy, found.topics, topics, item.cpv)
                item.members = match_members(item, self.profiles, found.phrases)
