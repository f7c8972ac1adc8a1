"""`veille eval` against the labelled development set (a quality floor, not a target)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SHARED, need_corpus

ROOT = Path(__file__).resolve().parents[2]


def test_eval_on_dev_set(veille):
    need_corpus()
    result = veille("--config", ROOT, "eval", SHARED / "eval" / "dev.jsonl", "--json")
    assert result.code == 0, result.err
    scores = json.loads(result.out)
    assert scores["items"] >= 150
    assert scores["micro"]["f1"] >= 0.85  # the target of the taxonomy
    assert min(t["f1"] for t in scores["topics"].values()) >= 0.6
    assert set(scores) == {"micro", "macro", "topics", "items"}
    assert set(scores["macro"]) == {"precision", "recall", "f1"}
    assert all({"precision", "recall", "f1", "support"} <= set(t) for t in scores["topics"].values())
    text = veille("--config", ROOT, "eval", SHARED / "eval" / "dev.jsonl").out
    assert "micro" in text and "membranes" in text


def test_eval_rejects_unlabelled_lines(veille, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "x", "topics": []}\nnot json\n')
    result = veille("--config", ROOT, "eval", bad)
    assert result.code == 2 and "bad.jsonl:2" in result.err


def test_eval_known_figures_on_a_small_file(veille, tmp_path):
    """Three labelled lines with hand-computed scores: one true positive, one false positive, one miss."""
    labelled = tmp_path / "small.jsonl"
    rows = [
        {"id": "1", "kind": "news", "lang": "fr", "title": "Nouvelle usine d'ultrafiltration", "summary": "",
         "topics": ["membranes"]},
        {"id": "2", "kind": "news", "lang": "en", "title": "Desalination plant tender", "summary": "",
         "topics": []},
        {"id": "3", "kind": "news", "lang": "en", "title": "A quiet week", "summary": "", "topics": ["algae"]},
    ]
    labelled.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    scores = json.loads(veille("--config", ROOT, "eval", labelled, "--json").out)
    assert scores["items"] == 3
    assert scores["topics"]["membranes"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1,
                                             "tp": 1, "fp": 0, "fn": 0}
    assert scores["topics"]["desalination"]["precision"] == 0.0 and scores["topics"]["desalination"]["support"] == 0
    assert scores["topics"]["algae"]["recall"] == 0.0 and scores["topics"]["algae"]["support"] == 1
    assert scores["micro"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert "sensors" in scores["topics"]  # topics without support are listed too


@pytest.mark.parametrize(("line", "says"), [
    ('{"title": 12, "topics": []}', "title: Input should be a valid string"),
    ('{"title": "t", "topics": ["membranes"], "cpv": [45000000]}', "cpv.0: Input should be a valid string"),
    ('{"title": "t", "topics": "membranes"}', "topics: Input should be a valid list"),
    ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
    ('{"title": "t"}', "topics: Field required"),
    ("[1, 2]", "expected a JSON object"),
    ("{not json", "not JSON"),
])
def test_lines_of_the_wrong_shape_give_file_line_and_exit_2(tmp_path, veille, line, says):
    path = tmp_path / "labels.jsonl"
    path.write_text('{"title": "Ultrafiltration", "topics": ["membranes"]}\n' + line + "\n", encoding="utf-8")
    result = veille("eval", path)
    assert result.code == 2 and f"{path}:2: not a labelled item: {says}" in result.err, result.err
