"""The tag stage: topics, member matches and their reasons, from pure functions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from veille.models import Item, Member, Topic
from veille.tag.profiles import Profile, compile_profiles, match_members
from veille.tag.rules import CompiledTopic, compile_taxonomy, tag_topics

__all__ = ["Tagger"]


@dataclass(frozen=True)
class Tagger:
    """Topic rules and member profiles compiled once, applied to many items."""

    taxonomy: tuple[CompiledTopic, ...]
    profiles: tuple[Profile, ...]

    @classmethod
    def build(cls, topics: Iterable[Topic], members: Iterable[Member]) -> Tagger:
        return cls(compile_taxonomy(topics), compile_profiles(members))

    def tag(self, item: Item, source_topics: Iterable[str] = ()) -> Item:
        """Fill `item.topics` and `item.members` in place and return the item."""
        item.topics = tag_topics(item.title, item.summary, self.taxonomy, source_topics, item.cpv)
        item.members = match_members(item, self.profiles)
        return item
