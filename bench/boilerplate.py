"""Feeds whose items all carry one description: the collect must not slow down, nor join different stories.

200 feeds × 50 items on 200 loopback addresses (100–300 ms each), every title distinct, collected twice by
`veille collect` in a child process: once with every item described by the same long text, once with varied
texts (the baseline). Prints wall time, sources ok and the largest cluster of each.

    python -m bench.boilerplate [--feeds 200] [--items 50] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from pathlib import Path

from bench.feeds import BOILERPLATE, FeedFarm


def collect_once(feeds: int, items: int, boilerplate: str | None) -> dict[str, float]:
    """Collect the farm's feeds into a fresh database; return seconds, sources ok, items and largest cluster."""
    from bench.collect import child, veille_env, write_config

    farm = FeedFarm(feeds, hosts=feeds, items=items, boilerplate=boilerplate, distinct=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            write_config(directory, farm, feeds)
            seconds, _, _, peak = child([sys.executable, "-m", "veille", "--config", str(directory), "collect"],
                                        veille_env(directory))
            with sqlite3.connect(directory / "veille.db") as db:
                ok = db.execute("SELECT count(*) FROM fetch_state WHERE last_status = 'ok'").fetchone()[0]
                stored = db.execute("SELECT count(*) FROM items").fetchone()[0]
                largest = db.execute("SELECT coalesce(max(n), 1) FROM (SELECT count(*) AS n FROM items "
                                     "WHERE cluster_id IS NOT NULL GROUP BY cluster_id)").fetchone()[0]
    finally:
        farm.stop()
    return {"seconds": seconds, "peak_mib": peak, "sources_ok": ok, "items": stored, "largest_cluster": largest}


def measure(feeds: int, items: int) -> dict[str, float]:
    same = collect_once(feeds, items, BOILERPLATE)
    varied = collect_once(feeds, items, None)
    out = {f"boilerplate_{k}": v for k, v in same.items()} | {f"varied_{k}": v for k, v in varied.items()}
    return out | {"boilerplate_ratio": same["seconds"] / varied["seconds"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    figures = measure(args.feeds, args.items)
    for kind in ("boilerplate", "varied"):
        print(f"{kind:12} {figures[f'{kind}_seconds']:7.2f} s  {figures[f'{kind}_sources_ok']:.0f}/{args.feeds} ok  "
              f"{figures[f'{kind}_items']:.0f} items  largest cluster {figures[f'{kind}_largest_cluster']:.0f}")
    print(f"one description on every item: {figures['boilerplate_ratio']:.2f}× the time of varied texts")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
