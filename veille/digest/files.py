"""The files of a built digest: its HTML and text, its items as CSV, its tender deadlines as iCalendar."""

from __future__ import annotations

from pathlib import Path

from veille.cells import neutralise
from veille.digest.render import Rendered
from veille.digest.summarize import frame
from veille.models import Item


def write_files(folder: Path, rendered: Rendered, items: list[Item], deadlines_ics: str) -> list[Path]:
    """Write digest.html, digest.txt, items.csv and deadlines.ics into `folder`; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "digest.html", folder / "digest.txt", folder / "items.csv", folder / "deadlines.ics"]
    paths[3].write_text(deadlines_ics, encoding="utf-8", newline="")
    paths[0].write_text(rendered.html, encoding="utf-8")
    paths[1].write_text(rendered.text, encoding="utf-8")
    table = frame(items).assign(
        topics=lambda d: d["topics"].str.join(";"), members=lambda d: d["members"].str.join(";"),
        cpv=lambda d: d["cpv"].str.join(";"),
    )
    # no formula reaches a spreadsheet
    table.map(lambda v: neutralise(v) if isinstance(v, str) else v).to_csv(paths[2], index=False)
    return paths


def listed_tenders(items: list[Item]) -> list[Item]:
    """The tenders a digest lists (on a topic or matching a member): those whose deadlines go in its calendar."""
    return [i for i in items if i.kind == "tender" and (i.topics or i.members)]
