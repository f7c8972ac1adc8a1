"""The files of a built digest: its HTML and text, its items as CSV, its tender deadlines as iCalendar."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

from veille import sheets
from veille.digest.render import Rendered
from veille.models import Item, Lang

CSV_COLUMNS = ["id", "kind", "source", "title", "url", "published_at", "country", "region", "topics", "members",
               "deadline_at", "buyer", "cpv"]


def csv_row(item: Item, zone: tzinfo) -> dict[str, object]:
    """The item as a line of items.csv: lists joined with `;`, times on the clock of `zone`, a deadline given as a
    day as that day."""
    return {"id": item.id, "kind": item.kind, "source": item.source, "title": item.title, "url": item.url,
            "published_at": sheets.local(item.published_at, zone), "country": item.country,
            "region": item.region or "unknown", "topics": ";".join(sorted(item.topics)),
            "members": ";".join(sorted(item.members)), "deadline_at": sheets.local(item.local_deadline(zone), zone),
            "buyer": item.buyer, "cpv": ";".join(item.cpv)}


def write_files(folder: Path, rendered: Rendered, items: list[Item], deadlines_ics: str, *, lang: Lang,
                zone: tzinfo) -> list[Path]:
    """Write digest.html, digest.txt, items.csv (for readers of `lang`, times in `zone`) and deadlines.ics into
    `folder`; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "digest.html", folder / "digest.txt", folder / "items.csv", folder / "deadlines.ics"]
    paths[3].write_text(deadlines_ics, encoding="utf-8", newline="")
    paths[0].write_text(rendered.html, encoding="utf-8")
    paths[1].write_text(rendered.text, encoding="utf-8")
    # no formula reaches a spreadsheet (sheets.cell_text neutralises every text cell)
    paths[2].write_text(sheets.to_csv((csv_row(i, zone) for i in items), CSV_COLUMNS, lang, zone), encoding="utf-8",
                        newline="")
    return paths


def listed_tenders(items: list[Item]) -> list[Item]:
    """The tenders a digest lists (on a topic or matching a member): those whose deadlines go in its calendar."""
    return [i for i in items if i.kind == "tender" and (i.topics or i.members)]
