"""`veille demo`: the whole job on bundled data, ending with emails received by a loopback SMTP server."""

from __future__ import annotations

import email
from email import policy

import pytest


@pytest.mark.parametrize(("lang", "closing", "subject"), [
    ("fr", "SE TERMINENT BIENTÔT (4)", "Veille eau — semaine 46 (9–15 nov. 2026)"),
    ("en", "CLOSING SOON (4)", "Water market watch — week 46 (9–15 Nov 2026)")])
def test_demo_runs_end_to_end(veille, tmp_path, lang, closing, subject):
    """The demo in French by default, in English with `--lang en` (its `digest.lang`)."""
    reports = tmp_path / "reports"
    result = veille("demo", "--reports", reports, *(["--lang", lang] if lang != "fr" else []))
    assert result.code == 0, result.err
    assert f"report   {reports / '2026-W46' / 'digest.html'}" in result.out
    assert "broken-server-error: HTTP 500" in result.out  # broken sources are reported…
    assert "items: 0 new, 0 updated" in result.out  # …and a second run stores nothing twice
    received = sorted((reports / "2026-W46" / "received").glob("*.eml"))
    assert len(received) == 3
    for path in received:
        assert f"received {path}" in result.out
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert message.get_content_type() == "multipart/alternative"
        assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
        html = message.get_body(("html",)).get_content().lower()
        assert "<script" not in html and "javascript:" not in html and "tracker.invalid" not in html
    full = email.message_from_bytes(received[0].read_bytes(), policy=policy.default)
    text = full.get_body(("plain",)).get_content()
    assert full["Subject"] == subject
    assert closing in text and "Télérelève et sectorisation du réseau d'eau potable" in text
    assert "Membrane d'étanchéité" not in text  # excluded false friend, not listed
