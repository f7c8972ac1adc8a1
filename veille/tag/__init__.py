"""The tag stage: topics, member matches and their reasons, from pure functions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from veille.models import Item, Member, Topic
from veille.tag.matcher import PHRASE, longest_first
from veille.tag.profiles import Profiles, compile_profiles, match_members, profile_phrases
from veille.tag.rules import Taxonomy, compile_taxonomy, scan_fields, score_topics

__all__ = ["Tagger"]


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
        """Fill `item.topics` and `item.members` in place and return the item (one scan per field)."""
        texts = {"title": item.title or "", "summary": item.summary or ""}
        fields = scan_fields(self.taxonomy, texts["title"], texts["summary"])
        if not (fields["title"] or fields["summary"] or item.cpv or source_topics):
            item.topics, item.members = {}, {}  # most items of a feed: nothing to score
            return item
        item.topics = score_topics(self.taxonomy, fields, texts, item.lang, source_topics, item.cpv)
        found: dict[str, str] = {}
        for name, hits in fields.items():
            for rule, start, end in longest_first(h for h in hits if h[0].kind == PHRASE):
                found.setdefault(rule.owner, f"'{texts[name][start:end]}' in {name}")
        item.members = match_members(item, self.profiles, found)
        return item
