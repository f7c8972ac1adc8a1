"""The stable kind and region IDs, what readers see for them, and the region of a country (no dependencies:
the command line reads them before anything heavy is imported)."""

from __future__ import annotations

KINDS: tuple[str, ...] = ("tender", "news", "regulation", "funding", "event")
KIND_ORDER = {k: i for i, k in enumerate(("tender", "regulation", "funding", "news", "event"))}
REGIONS: tuple[str, ...] = ("FR", "EU", "CA", "BR", "GULF", "OTHER")
GULF = frozenset({"SA", "AE", "QA", "KW", "OM", "BH"})
# EU member states and the EEA: the "EU" region group (France has its own group).
EU_EEA = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "DE", "GR", "EL", "HU", "IE", "IT", "LV", "LT", "LU", "MT",
    "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
})

# What readers see for each kind and region ID (the digest's sections, the site's filters).
KIND_LABELS = {"tender": "Calls for tenders", "regulation": "Regulation", "funding": "Funding calls",
               "news": "News", "event": "Events"}
REGION_LABELS = {"FR": "France", "EU": "Europe (EU/EEA)", "CA": "Canada", "BR": "Brazil", "GULF": "Gulf countries",
                 "OTHER": "Other countries"}


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
