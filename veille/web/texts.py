"""The site's words that are built in Python (the rest are in the templates), in English: each is a message of the
catalogs, shown in the reader's language (`Reading._`)."""

from __future__ import annotations

from veille.i18n import N_

NOT_FOUND = N_("Not found")  # the title of the 404 page
BAD_REQUEST = N_("Bad request")
ALL_ITEMS = N_("All items")
OPEN_TENDERS = N_("open tenders")  # the chip of `open=1`
NO_SUCH_ITEM = N_("This item is not in the archive: the link may be incomplete, or the item was removed.")
NO_SUCH_PAGE = N_("There is no page at this address.")
FACETS = {"topic": N_("Topic"), "kind": N_("Kind"), "region": N_("Region"), "member": N_("Member"),
          "source": N_("Source"), "open": N_("Deadline"), "search": N_("Search"), "since": N_("From"),
          "until": N_("To")}  # the titles of the list's filter groups
VERDICT_TITLE = N_("Your verdict")
VERDICT_BAD_LINK = N_("This verdict link is not valid (incomplete, or replaced by newer links). Use the links of "
                      "your latest digest.")
WORKING_GROUP = N_("working group")
