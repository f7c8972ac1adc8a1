"""The sentences the site's Python code shows to readers (the templates hold the rest of the pages' text), in
English: each is one message of the catalogs, shown in the reader's language."""

from __future__ import annotations

from veille.i18n import N_

INVALID_LINK_TITLE = N_("Invalid link")
INVALID_LINK = N_("This link is no longer valid: ask the watch's coordinator for a new one.")
