"""Why an item was tagged or matched, said to a reader: the tagger's reasons ("topic membranes: 'PVDF' in title",
"keyword 'biofilm': 'biofilm' in summary", "CPV 45252127 matches 4525") in the reader's language, topic IDs
replaced by their labels (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from veille.i18n import N_, gettext_for

_QUOTE = re.compile(r"'(.+?)' in (title|summary)")
_TOPIC = re.compile(r"^topic (\w+): (.*)$", re.S)
_TOPIC_ALONE = re.compile(r"^topic (\w+)$")
_KEYWORD = re.compile(r"^keyword (.+?): (.*)$", re.S)
_CPV_MATCH = re.compile(r"^CPV (\S+) matches (\S+)$")
IN_FIELD = {"title": N_("“{phrase}” in the title"), "summary": N_("“{phrase}” in the summary")}


def explain(reason: str, lang: str, topic_labels: Mapping[str, str]) -> str:
    """One reason or piece of evidence as a reader of `lang` reads it (unknown shapes are left as they are)."""
    _ = gettext_for(lang)

    def quotes(text: str) -> str:
        return _QUOTE.sub(lambda m: _(IN_FIELD[m.group(2)]).format(phrase=m.group(1)), text)

    if m := _TOPIC.match(reason):
        return _("{topic}: {why}").format(topic=topic_labels.get(m.group(1), m.group(1)), why=quotes(m.group(2)))
    if m := _TOPIC_ALONE.match(reason):
        return topic_labels.get(m.group(1), m.group(1))
    if m := _KEYWORD.match(reason):
        return _("keyword {rule}: {why}").format(rule=m.group(1), why=quotes(m.group(2)))
    if m := _CPV_MATCH.match(reason):
        return _("CPV {code} matches {prefix}").format(code=m.group(1), prefix=m.group(2))
    return quotes(reason)
