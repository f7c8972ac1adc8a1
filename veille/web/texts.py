"""The site's French words that are built in Python (the rest are in the templates), in one place: ready to be
moved to gettext catalogs."""

from __future__ import annotations

OPEN_TENDERS = "appels d'offres ouverts"  # the chip of `open=1`
