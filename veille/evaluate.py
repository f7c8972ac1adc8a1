"""Tagging quality against a labelled JSONL file: precision, recall and F1 per topic (pure apart from reading)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from veille.errors import InputError
from veille.models import Config
from veille.tag.rules import compile_taxonomy, tag_texts


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate_file(path: Path, config: Config) -> dict[str, Any]:
    """Return {"micro", "macro", "topics": {id: {precision, recall, f1, support, tp, fp, fn}}, "items"}.

    Each line is an object with `title`, `summary`, `topics` (the expected topic IDs) and optionally
    `lang`, `kind` and `cpv`; `support` is the number of labelled positives of a topic.
    """
    taxonomy = compile_taxonomy(config.topics)
    rows = _labelled_rows(path)
    tagged = tag_texts(taxonomy, [text for _, text in rows])  # one batch: the texts are scanned together
    tp, fp, fn = _confusion([expected for expected, _ in rows], tagged)
    topics = {topic: _topic_scores(tp[topic], fp[topic], fn[topic]) for topic in config.topic_ids}
    p, r = _precision_recall(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return {"micro": {"precision": round(p, 3), "recall": round(r, 3), "f1": round(_f1(p, r), 3)},
            "macro": {"precision": _mean(topics, "precision"), "recall": _mean(topics, "recall"),
                      "f1": _mean(topics, "f1")},
            "topics": topics, "items": len(rows)}


_Text = tuple[str, str, str | None, Sequence[str]]  # title, summary, language, CPV codes


class LabelledItem(BaseModel):
    """One line of a labelled file, strictly typed: a number where text is expected is an error, not a guess."""

    model_config = ConfigDict(strict=True, extra="ignore")

    topics: list[str]
    title: str | None = None
    summary: str | None = None
    lang: str | None = None
    kind: str | None = None
    cpv: list[Annotated[str, Field(pattern=r"^\d{8}(-\d)?$")]] | None = None


def _row(line: str) -> tuple[set[str], _Text]:
    """(expected topics, text) of one line; ValueError saying what is wrong with it."""
    try:
        data = json.loads(line)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, found {type(data).__name__}")
    try:
        row = LabelledItem.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{where}: {first['msg']}" + (f" (got {str(first.get('input'))[:40]!r})"
                                                         if "input" in first else "")) from None
    return set(row.topics), (row.title or "", row.summary or "", row.lang, row.cpv or ())


def _labelled_rows(path: Path) -> list[tuple[set[str], _Text]]:
    """Return (expected topics, text) of every non-blank line of a labelled JSONL file (InputError if unusable)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(_row(line))
        except ValueError as exc:
            raise InputError(f"{path}:{number}: not a labelled item: {exc}") from None
    return rows


def _confusion(expected: Sequence[set[str]], tagged: Sequence[Iterable[str]]) -> tuple[
        Counter[str], Counter[str], Counter[str]]:
    """Return (true positives, false positives, false negatives) per topic over all items."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for wanted, found in zip(expected, tagged, strict=True):
        got = set(found)
        for topic in got & wanted:
            tp[topic] += 1
        for topic in got - wanted:
            fp[topic] += 1
        for topic in wanted - got:
            fn[topic] += 1
    return tp, fp, fn


def _precision_recall(tp: int, fp: int, fn: int) -> tuple[float, float]:
    """Return (precision, recall), 0 when undefined."""
    return tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0


def _topic_scores(tp: int, fp: int, fn: int) -> dict[str, Any]:
    """Return a topic's {precision, recall, f1, support, tp, fp, fn}, rounded to 3 decimals."""
    p, r = _precision_recall(tp, fp, fn)
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(_f1(p, r), 3), "support": tp + fn,
            "tp": tp, "fp": fp, "fn": fn}


def _mean(topics: dict[str, dict[str, Any]], key: str) -> float:
    """Return the mean of `key` over the topics (rounded to 3 decimals; 0 without topics)."""
    return round(sum(t[key] for t in topics.values()) / len(topics), 3) if topics else 0.0


def format_scores(scores: dict[str, Any]) -> str:
    lines = [f"{'topic':<18} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8} {'tp':>4} {'fp':>4} {'fn':>4}"]
    for topic, s in scores["topics"].items():
        lines.append(f"{topic:<18} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f} {s['support']:>8} "
                     f"{s['tp']:>4} {s['fp']:>4} {s['fn']:>4}")
    for name in ("micro", "macro"):
        m = scores[name]
        lines.append(f"{name:<18} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f}")
    lines.append(f"{scores['items']} items")
    return "\n".join(lines)


def format_feedback_scores(rows: list[dict[str, Any]]) -> str:
    """`veille eval --feedback` as a table per reader, then the relevant items today's rules miss."""
    if not rows:
        return "No verdict stored yet: readers give them with the links of the digest and the site.\n"
    lines = [f"{'reader':<18} {'verdicts':>8} {'relevant':>8} {'not':>5} {'sent':>5} {'precision':>9} {'missed':>6}"]
    for r in rows:
        precision = "-" if r["precision"] is None else f"{r['precision']:.3f}"
        lines.append(f"{r['reader']:<18} {r['verdicts']:>8} {r['relevant']:>8} {r['not_relevant']:>5} {r['sent']:>5} "
                     f"{precision:>9} {len(r['missed']):>6}")
    missed = [(r["reader"], m) for r in rows for m in r["missed"]]
    if missed:
        lines += ["", "relevant but not sent by today's rules:"]
        lines += [f"  {reader}: {m['title']} ({m['id']})" for reader, m in missed]
    return "\n".join(lines) + "\n"
