"""`veille inspect`: a saved payload parsed by a connector, as the collect would parse it (nothing fetched)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from veille.collect.connectors import REGISTRY
from veille.collect.run import parse_payload
from veille.errors import InputError
from veille.models import Item, Kind, Source


def inspect_file(type_name: str, path: Path, options: dict[str, Any] | None = None,
                 kind: Kind = "news", country: str | None = None) -> list[Item]:
    """Parse a saved payload with connector `type_name`; raises InputError on unreadable input."""
    if type_name not in REGISTRY:
        raise InputError(f"unknown type {type_name!r}; known types: {', '.join(sorted(REGISTRY))}")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        source = Source(name=path.name, kind=kind, type=type_name, url=f"https://inspect.invalid/{path.name}",
                        country=country, options=options or {})
        REGISTRY[type_name].options(**(options or {}))
    except ValueError as exc:
        raise InputError(f"bad options for type {type_name!r}: {exc}") from exc
    try:
        return parse_payload(source, content)
    except Exception as exc:
        raise InputError(f"{path}: {exc}") from exc
