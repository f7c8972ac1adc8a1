"""Time zones: the zone in which a country's sources write local times, and zones named in stored items."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone, tzinfo
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

# The capital's zone where a country has several (zone.tab's first entry is not always the capital's).
_ZONES = {"CA": "America/Toronto", "BR": "America/Sao_Paulo", "US": "America/New_York", "RU": "Europe/Moscow",
          "AU": "Australia/Sydney", "MX": "America/Mexico_City", "ES": "Europe/Madrid", "PT": "Europe/Lisbon",
          "DE": "Europe/Berlin", "KZ": "Asia/Almaty", "ID": "Asia/Jakarta", "CL": "America/Santiago",
          "AR": "America/Argentina/Buenos_Aires", "CN": "Asia/Shanghai", "EC": "America/Guayaquil",
          "NZ": "Pacific/Auckland", "MN": "Asia/Ulaanbaatar", "CD": "Africa/Kinshasa", "UA": "Europe/Kyiv"}


@lru_cache(maxsize=1)
def _zone_tab() -> dict[str, str]:
    zones: dict[str, str] = {}
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _coords, zone = line.split("\t")[:3]
            zones.setdefault(code, zone)
    return zones


def country_zone(country: str | None) -> str | None:
    """Return the IANA time zone in which a country's sources write local times."""
    if not country:
        return None
    return _ZONES.get(country) or _zone_tab().get(country)


def zone_named(name: str | None) -> tzinfo:
    """The zone a stored name stands for: an IANA name ('Europe/Paris'), a fixed offset ('+02:00', '-0300'),
    'UTC' or None (UTC)."""
    if not name or name in ("UTC", "Z"):
        return UTC
    if name[0] in "+-":
        digits = name[1:].replace(":", "")
        sign = 1 if name[0] == "+" else -1
        return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))
    return ZoneInfo(name)


def zone_name(zone: tzinfo) -> str:
    """The name `zone_named` reads back: the IANA key, else the fixed offset ('+02:00'), 'UTC' for UTC."""
    key = getattr(zone, "key", None)
    if key:
        return str(key)
    offset = zone.utcoffset(None) or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
