"""Connector registry: one module per source `type`, each giving options, fetch and parse.

A connector parses a payload into items: `parse(source, content, url, content_type) -> Iterator[Item]`;
it may also yield `Skipped` for an entry it cannot make an item of, so that the source's report counts it.
Its `fetch` builds the requests (a single conditional GET unless the connector pages through an API).
Adding a source type is one module and one line in REGISTRY.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from veille.collect.http import Fetcher, Response, Validators
from veille.models import Item, Source


@dataclass(frozen=True)
class Skipped:
    """An entry of the payload that gave no item, and why (counted in the source's report)."""

    reason: str


Parse = Callable[[Source, bytes, str, str], Iterator[Item | Skipped]]
Fetch = Callable[[Source, Fetcher, Validators], Awaitable[list[Response]]]


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


async def single_get(source: Source, fetcher: Fetcher, validators: Validators) -> list[Response]:
    """Fetch the source URL once, conditionally on the stored ETag / Last-Modified."""
    return [await fetcher.fetch(source.url, allow_private=source.allow_private_network, validators=validators)]


@dataclass(frozen=True)
class Connector:
    name: str
    options: type[BaseModel]
    parse: Parse
    fetch: Fetch = single_get


def _registry() -> dict[str, Connector]:
    from veille.collect.connectors import (
        boamp,
        canadabuys,
        eforms,
        eu_funding,
        federal_register,
        feed,
        generic,
        page,
        pncp,
        ted,
        ted_xml,
        worldbank,
    )

    modules = (feed, page, ted, eforms, ted_xml, boamp, worldbank, pncp, canadabuys, federal_register, eu_funding)
    return {c.name: c for c in (*(m.CONNECTOR for m in modules), generic.JSON, generic.CSV)}


REGISTRY: dict[str, Connector] = _registry()


def options_model(type_name: str) -> type[BaseModel] | None:
    """Return the options model of connector `type_name`, or None when no such connector exists."""
    connector = REGISTRY.get(type_name)
    return connector.options if connector else None
