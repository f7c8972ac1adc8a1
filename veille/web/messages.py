"""The sentences the site's Python code shows to readers (the templates hold the rest of the pages' text).

Each is a whole sentence with no pieces glued on at run time, so that each can become one gettext message:
when the site gets its catalogs, these constants become calls made per request, in the reader's language.
"""

from __future__ import annotations

INVALID_LINK_TITLE = "Lien non valide"
INVALID_LINK = "Ce lien n'est plus valide : demandez-en un nouveau à l'animateur de la veille."
