"""Fetch an API page after page: each connector says how to build the next request from a response."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from veille.collect.http import Fetcher, Response
from veille.errors import TerminalSourceError
from veille.models import Source


@dataclass(frozen=True)
class PageRequest:
    """One HTTP request of a paged API."""

    url: str
    method: str = "GET"
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    files: dict[str, Any] | None = None  # multipart parts: name -> (filename, content, content type)
    headers: dict[str, str] = field(default_factory=dict)

    def with_params(self, **params: Any) -> PageRequest:
        return replace(self, params={**self.params, **params})


NextPage = Callable[[Response, PageRequest, int], PageRequest | None]


class PagingOptions(BaseModel):
    """Options every paged API source accepts (the connectors add their own)."""

    model_config = ConfigDict(extra="forbid")

    max_pages: int = Field(10, ge=1, le=1000)
    page_delay: float = Field(1.0, ge=0, le=60)


async def fetch_pages(source: Source, fetcher: Fetcher, first: PageRequest, next_page: NextPage,
                      options: PagingOptions) -> list[Response]:
    """Fetch `first`, then each request `next_page` gives, up to `max_pages`, pausing `page_delay` between."""
    responses: list[Response] = []
    request: PageRequest | None = first
    while request is not None and len(responses) < options.max_pages:
        if responses and options.page_delay:
            await asyncio.sleep(options.page_delay)
        kwargs: dict[str, Any] = {"params": request.params or None, "headers": request.headers}
        if request.json is not None:
            kwargs["json"] = request.json
        if request.files is not None:
            kwargs["files"] = request.files
        response = await fetcher.fetch(request.url, method=request.method,
                                       allow_private=source.allow_private_network, **kwargs)
        responses.append(response)
        request = next_page(response, request, len(responses))
    return responses


def shape_error(what: str, expected: str) -> TerminalSourceError:
    return TerminalSourceError(f"not {what}: expected {expected}")


def load_json(content: bytes, what: str) -> Any:
    """Parse a JSON payload; raise a TerminalSourceError naming `what` when it is not JSON."""
    try:
        return json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TerminalSourceError(f"not a {what} JSON payload: {exc}") from exc
