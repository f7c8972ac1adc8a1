"""The site's French words that are built in Python (the rest are in the templates), in one place: ready to be
moved to gettext catalogs."""

from __future__ import annotations

NOT_FOUND = "Introuvable"  # the title of the 404 page
OPEN_TENDERS = "appels d'offres ouverts"  # the chip of `open=1`
NO_SUCH_ITEM = "Cet élément n'est pas dans l'archive : le lien est peut-être incomplet, ou l'élément a été retiré."
NO_SUCH_PAGE = "Il n'y a pas de page à cette adresse."
