"""Tagging quality against a labelled JSONL file: precision, recall and F1 per topic (pure apart from reading)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from veille.errors import InputError
from veille.models import Config
from veille.tag.rules import compile_taxonomy, tag_topics


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate_file(path: Path, config: Config) -> dict[str, Any]:
    """Return {"items", "micro": {...}, "macro_f1", "topics": {id: {...}}} for the file's labelled items.

    Each line is an object with `title`, `summary` and `topics` (the expected topic IDs).
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
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            expected = set(row["topics"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{number}: not a labelled item ({exc})") from exc
        got = set(tag_topics(row.get("title") or "", row.get("summary") or "", taxonomy))
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
                         "tp": tp[topic], "fp": fp[topic], "fn": fn[topic]}
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    p = all_tp / (all_tp + all_fp) if all_tp + all_fp else 0.0
    r = all_tp / (all_tp + all_fn) if all_tp + all_fn else 0.0
    macro = sum(t["f1"] for t in topics.values()) / len(topics) if topics else 0.0
    return {"items": count, "micro": {"precision": round(p, 3), "recall": round(r, 3), "f1": round(_f1(p, r), 3)},
            "macro_f1": round(macro, 3), "topics": topics}


def format_scores(scores: dict[str, Any]) -> str:
    lines = [f"{'topic':<18} {'precision':>9} {'recall':>7} {'f1':>6} {'tp':>4} {'fp':>4} {'fn':>4}"]
    for topic, s in scores["topics"].items():
        lines.append(f"{topic:<18} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f} "
                     f"{s['tp']:>4} {s['fp']:>4} {s['fn']:>4}")
    m = scores["micro"]
    lines.append(f"{'micro':<18} {m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>6.3f}")
    lines.append(f"macro F1 {scores['macro_f1']:.3f} over {scores['items']} items")
    return "\n".join(lines)
