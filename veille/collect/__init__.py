"""The collect stage: fetch sources over HTTP and parse them into items.

The names below are imported when first used, so that reading the connectors' options (`veille check`)
does not load the HTTP client, the language model and every parser.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from veille.collect.connectors import REGISTRY, options_model
    from veille.collect.http import HttpSettings, Validators
    from veille.collect.run import SourceOutcome, collect, collect_async, parse_payload

__all__ = ["REGISTRY", "HttpSettings", "SourceOutcome", "Validators", "collect", "collect_async",
           "options_model", "parse_payload"]
_HOMES = {"REGISTRY": "connectors", "options_model": "connectors", "HttpSettings": "http", "Validators": "http",
          "SourceOutcome": "run", "collect": "run", "collect_async": "run", "parse_payload": "run"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'veille.collect' has no attribute {name!r}")
    return getattr(import_module(f"veille.collect.{_HOMES[name]}"), name)
