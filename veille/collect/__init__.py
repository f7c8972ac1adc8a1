"""The collect stage: fetch sources over HTTP and parse them into items."""

from veille.collect.connectors import REGISTRY, options_model
from veille.collect.http import HttpSettings, Validators
from veille.collect.run import SourceOutcome, collect, collect_async, parse_payload

__all__ = ["REGISTRY", "HttpSettings", "SourceOutcome", "Validators", "collect", "collect_async",
           "options_model", "parse_payload"]
