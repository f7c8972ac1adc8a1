"""`veille eval` against the labelled development set (a quality floor, not a target)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SHARED, need_corpus

ROOT = Path(__file__).resolve().parents[2]


def test_eval_on_dev_set(veille):
    need_corpus()
    result = veille("--config", ROOT, "eval", SHARED / "eval" / "dev.jsonl", "--json")
    assert result.code == 0, result.err
    scores = json.loads(result.out)
    assert scores["items"] >= 150
    assert scores["micro"]["precision"] >= 0.8
    assert scores["micro"]["f1"] >= 0.75
    text = veille("--config", ROOT, "eval", SHARED / "eval" / "dev.jsonl").out
    assert "micro" in text and "membranes" in text


def test_eval_rejects_unlabelled_lines(veille, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "x", "topics": []}\nnot json\n')
    result = veille("--config", ROOT, "eval", bad)
    assert result.code == 2 and "bad.jsonl:2" in result.err
