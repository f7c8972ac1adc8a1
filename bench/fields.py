"""Fields filled per connector on a corpus of saved payloads: how much of each real notice the connectors read.

    python -m bench.fields [--corpus DIR] [--json FILE]

Each folder of the corpus is parsed by its connector as `veille inspect` does (nothing fetched); for each
connector the table gives the items read, the payloads refused, and how many items have each field filled.
Run with another checkout first on PYTHONPATH to measure that version the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from veille.collect import parse_payload
from veille.models import Source

# connector → (corpus folder, file suffixes, options)
CORPUS: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {
    "ted": ("ted-api-v3", (".json",), {}),
    "eforms": ("ted-eforms", (".xml",), {}),
    "ted-xml": ("ted-xml-r209", (".xml",), {}),
    "boamp": ("boamp", (".json",), {}),
    "worldbank": ("worldbank-procnotices", (".json",), {}),
    "federal-register": ("federal-register", ("search-newest-page1.json", "clean-water-page1.json"), {}),
    "pncp": ("pncp", ("proposta-page1.json",), {}),
    "canadabuys": ("canadabuys", (".csv",), {}),
    "eu-funding": ("eu-funding", (".json",), {}),
    "feed": ("feeds", (".rss", ".atom", ".rdf", ".xml", ".gz"), {}),
}
KINDS = {"eu-funding": "funding", "federal-register": "regulation", "feed": "news"}
# bookkeeping, and `deadlines` (the list `deadline_at` is the first of) left out of the counts
SKIP = {"id", "source", "kind", "topics", "members", "cluster_id", "collected_at", "updated_at", "region", "deadlines"}


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {}, False)


def measure(corpus: Path) -> dict[str, dict[str, Any]]:
    """{connector: {"files", "items", "refused", "fields": {field: items with it filled}}}."""
    results: dict[str, dict[str, Any]] = {}
    for connector, (folder, suffixes, options) in CORPUS.items():
        files = sorted(p for p in (corpus / folder).glob("*") if p.name.endswith(suffixes))
        if not files:
            continue
        counts: dict[str, int] = {}
        items = refused = 0
        for path in files:
            source = Source(name=connector, kind=KINDS.get(connector, "tender"), type=connector,
                            url="https://corpus.invalid/", options=options)
            try:
                parsed = parse_payload(source, path.read_bytes())
            except Exception:  # a payload the connector refuses counts as refused
                refused += 1
                continue
            for item in parsed:
                items += 1
                for name, value in item.to_json().items():
                    if name not in SKIP and _filled(value):
                        counts[name] = counts.get(name, 0) + 1
        results[connector] = {"files": len(files), "items": items, "refused": refused,
                              "filled": sum(counts.values()), "fields": dict(sorted(counts.items()))}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fields", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus",
                        help="the folder of saved payloads (default: ../shared/corpus beside the checkout)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"bench.fields: no corpus folder at {args.corpus}", file=sys.stderr)
        return 2
    results = measure(args.corpus)
    for connector, r in results.items():
        fields = ", ".join(f"{k} {v}" for k, v in r["fields"].items())
        print(f"{connector}: {r['files']} files, {r['items']} items, {r['refused']} refused, "
              f"{r['filled']} fields filled ({fields})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
