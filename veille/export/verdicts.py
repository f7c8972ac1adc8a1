"""The readers' verdicts and the changes they call for, as `veille feedback` and `veille suggest` print them
(pure functions)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any

from rich.table import Table

from veille import sheets
from veille.export.formats import _print
from veille.models import Lang, Suggestion

COLUMNS = ["at", "reader", "verdict", "id", "kind", "title", "url", "source", "topics", "members"]


def render_verdicts(rows: Sequence[Mapping[str, object]], fmt: str, *, lang: Lang, zone: tzinfo) -> str:
    """The verdicts as a terminal table, a CSV for readers of `lang` (times in `zone`) or JSON."""
    if fmt == "csv":
        return sheets.to_csv(rows, COLUMNS, lang, zone)
    if fmt == "json":
        return json.dumps([{k: (v.isoformat() if k == "at" and hasattr(v, "isoformat") else v) for k, v in r.items()}
                           for r in rows],
                          ensure_ascii=False, indent=2) + "\n"
    table = Table(show_lines=False, expand=False)
    for name in ("at", "reader", "verdict", "title", "source"):
        table.add_column(name, overflow="fold")
    for r in rows:
        at = r["at"]
        table.add_row(at.strftime("%Y-%m-%d %H:%M") if hasattr(at, "strftime") else str(at), str(r["reader"]),
                      str(r["verdict"]), str(r["title"]), str(r["source"]))
    return _print(table, len(rows), None).replace(" items\n", " verdicts\n").replace(" item\n", " verdict\n")


def suggestions_json(found: Sequence[Suggestion], titles: Mapping[str, str]) -> list[dict[str, Any]]:
    return [{"reader": s.reader, "change": s.kind, "term": s.term, "topic": s.topic,
             "fixes": [{"id": i, "title": titles.get(i, "")} for i in s.fixes], "other_items": s.others}
            for s in found]


def suggestions_text(found: Sequence[Suggestion], titles: Mapping[str, str]) -> str:
    """The proposals as YAML to paste: per member, the entries to add to its `exclude` and `keywords` in
    members.yaml; for the working group, exclusions to add to a topic in topics.yaml; each with the judged
    items it puts right and how many other stored items it would change."""
    if not found:
        return "No change to propose: no verdict yet, or none that a term explains (see veille eval --feedback).\n"
    lines: list[str] = []
    by_reader: dict[str, list[Suggestion]] = {}
    for s in found:
        by_reader.setdefault(s.reader, []).append(s)
    for reader, proposals in by_reader.items():
        if reader == "group":
            lines.append("# topics.yaml: exclusions the working group's verdicts call for (add them to the topic's")
            lines.append("# exclude list; a topic named in topics.yaml replaces the shipped one: copy its rules)")
            lines.append("topics:")
            for topic in dict.fromkeys(s.topic for s in proposals):
                lines.append(f"  {topic}:")
                lines.append("    exclude:")
                lines.append("      any:")
                lines += _entries([s for s in proposals if s.topic == topic], titles, "        ")
        else:
            lines.append(f"# members.yaml, member {reader}: add these entries")
            lines.append(f"- id: {reader}")
            for kind, key in (("exclude", "exclude"), ("keyword", "keywords")):
                chosen = [s for s in proposals if s.kind == kind]
                if chosen:
                    lines.append(f"  {key}:")
                    lines += _entries(chosen, titles, "    ")
        lines.append("")
    return "\n".join(lines)


def _entries(proposals: Sequence[Suggestion], titles: Mapping[str, str], indent: str) -> list[str]:
    lines = []
    for s in proposals:
        what = "takes out" if s.kind != "keyword" else "brings in"
        # titles on one line each: a comment that breaks would break the YAML pasted
        judged = "; ".join(" ".join(titles.get(i, i).split())[:70] for i in s.fixes[:3]) + (
            "; …" if len(s.fixes) > 3 else "")
        lines.append(f"{indent}- {json.dumps(s.term, ensure_ascii=False)}  # {what} {len(s.fixes)} judged "
                     f"item{'s' if len(s.fixes) != 1 else ''} ({judged}); {s.others} other stored "
                     f"item{'s' if s.others != 1 else ''} would change")
    return lines
