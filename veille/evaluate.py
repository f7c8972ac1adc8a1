"""Tagging quality against a labelled JSONL file: precision, recall and F1 per topic (pure apart from reading)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

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
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    count = 0
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append((set(row["topics"]), (row.get("title") or "", row.get("summary") or "", row.get("lang"),
                                              row.get("cpv") or ())))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"{path}:{number}: not a labelled item ({exc})") from exc
    tagged = tag_texts(taxonomy, [text for _, text in rows])  # one batch: the texts are scanned together
    for (expected, _), found in zip(rows, tagged, strict=True):
        got = set(found)
        count += 1
        for topic in got & expected:
            tp[topic] += 1
        for topic in got - expected:
            fp[topic] += 1
        for topic in expected - got:
            fn[topic] += 1
    topics = {}
    for topic in config.topic_ids:
        p = tp[topic] / (tp[topic] + fp[topic]) if tp[topic] + fp[topic] else 0.0
        r = tp[topic] / (tp[topic] + fn[topic]) if tp[topic] + fn[topic] else 0.0
        topics[topic] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(_f1(p, r), 3),
                         "support": tp[topic] + fn[topic], "tp": tp[topic], "fp": fp[topic], "fn": fn[topic]}
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    p = all_tp / (all_tp + all_fp) if all_tp + all_fp else 0.0
    r = all_tp / (all_tp + all_fn) if all_tp + all_fn else 0.0
    def mean(key: str) -> float:
        return round(sum(t[key] for t in topics.values()) / len(topics), 3) if topics else 0.0

    return {"micro": {"precision": round(p, 3), "recall": round(r, 3), "f1": round(_f1(p, r), 3)},
            "macro": {"precision": mean("precision"), "recall": mean("recall"), "f1": mean("f1")},
            "topics": topics, "items": count}


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
