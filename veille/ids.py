"""The stable kind and region IDs, what readers see for them, and the region of a country (no heavy dependencies:
the command line reads them before anything heavy is imported)."""

from __future__ import annotations

from veille.i18n import N_

KINDS: tuple[str, ...] = ("tender", "news", "regulation", "funding", "event")
KIND_ORDER = {k: i for i, k in enumerate(("tender", "regulation", "funding", "event", "news"))}  # the digest's order
REGIONS: tuple[str, ...] = ("FR", "EU", "CA", "BR", "GULF", "OTHER")
GULF = frozenset({"SA", "AE", "QA", "KW", "OM", "BH"})
# EU member states and the EEA: the "EU" region group (France has its own group).
EU_EEA = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "DE", "GR", "EL", "HU", "IE", "IT", "LV", "LT", "LU", "MT",
    "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
})

# What readers see for each kind and region ID (the digest's sections, the site's filters), in English: shown
# through the reader's catalog (`gettext_for(lang)(KIND_LABELS[kind])`).
KIND_LABELS = {"tender": N_("Calls for tenders"), "regulation": N_("Regulation"), "funding": N_("Funding calls"),
               "news": N_("News"), "event": N_("Events")}
REGION_LABELS = {"FR": N_("France"), "EU": N_("Europe (EU/EEA)"), "CA": N_("Canada"), "BR": N_("Brazil"),
                 "GULF": N_("Gulf countries"), "OTHER": N_("Other countries"), "unknown": N_("Country not given")}
NOTICE_TYPES = {"": N_("notice"), "other": N_("notice"), "contract-notice": N_("call for tenders"),
                "award": N_("award"), "prior-information": N_("prior information"), "modification": N_("modification")}


def region_of(country: str | None) -> str | None:
    """Return the region group (FR, EU, CA, BR, GULF, OTHER) of an ISO alpha-2 country code."""
    if not country:
        return None
    code = country.upper()
    if code == "FR":
        return "FR"
    if code in EU_EEA:
        return "EU"
    if code in ("CA", "BR"):
        return code
    if code in GULF:
        return "GULF"
    return "OTHER"
