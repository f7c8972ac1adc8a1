"""Configuration: the shipped files validate; each kind of mistake is refused with file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import feed_source, write_config

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_configuration_is_valid(veille):
    """`veille check` on the repository's sources.yaml and members.yaml exits 0."""
    result = veille("--config", ROOT, "check")
    assert result.code == 0, result.err
    assert "12 members" in result.out


def _broken_copy(tmp_path: Path, old: str, new: str, file: str = "sources.yaml") -> Path:
    for name in ("sources.yaml", "members.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    text = (tmp_path / file).read_text(encoding="utf-8")
    assert old in text
    (tmp_path / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("old", "new", "needle", "message"), [
    ("    lang: en\n    every: 6h\n", "    lang: en\n    colour: blue\n    every: 6h\n", "colour: blue",
     "unknown key 'colour'"),
    ("topics: [membranes]", "topics: [membrane]", "topics: [membrane]", "unknown topic 'membrane'"),
    ("kind: regulation", "kind: law", "kind: law", "'law' is not accepted"),
    ("url: https://www.wateronline.com/rss", "url: www.wateronline.com/rss", "url: www.wateronline",
     "is not an http(s) URL"),
    ("name: water-online", "name: waterworld", "name: waterworld\n", "duplicate source name 'waterworld'"),
    ("every: 12h", "every: twice a day", "every: twice a day", "is not a duration"),
    ("type: feed", "type: rss", "type: rss", "unknown connector type 'rss'"),
])
def test_bad_sources_exit_2_with_file_and_line(veille, tmp_path, old, new, needle, message):
    """Each mistake in sources.yaml is reported as sources.yaml:<line> with the field, exit 2."""
    directory = _broken_copy(tmp_path, old, new)
    result = veille("--config", directory, "check")
    assert result.code == 2
    lines = [line for line in result.err.splitlines() if message in line]
    assert lines, result.err
    text = (directory / "sources.yaml").read_text()
    occurrences = [i for i, line in enumerate(text.splitlines(), 1) if needle.strip() in line]
    assert any(lines[0].startswith(f"sources.yaml:{n}:") for n in occurrences), (lines[0], occurrences)


def test_malformed_yaml_names_the_line(veille, tmp_path):
    """A YAML syntax error gives file:line and exit 2."""
    directory = _broken_copy(tmp_path, "topics: [membranes]", "topics: [membranes")
    result = veille("--config", directory, "check")
    assert result.code == 2
    assert "sources.yaml:" in result.err and "a list opened with '[' is not closed with ']'" in result.err


def test_bad_member_fields(veille, tmp_path):
    """Unknown region, bad email and unknown topic in members.yaml are each located."""
    directory = _broken_copy(tmp_path, "regions: [FR, EU, GULF, OTHER]", "regions: [FR, EUROPE]", "members.yaml")
    text = (directory / "members.yaml").read_text().replace("veille@polymem.example.org", "not-an-email")
    text = text.replace("topics: [algae]", "topics: [algea]")
    (directory / "members.yaml").write_text(text)
    result = veille("--config", directory, "check")
    assert result.code == 2
    path = directory / "members.yaml"
    assert f"members.yaml:{_line_of(path, 'EUROPE')}: aquasource.regions[1]" in result.err
    assert f"members.yaml:{_line_of(path, 'not-an-email')}:" in result.err
    line = _line_of(path, "algea")
    assert f"members.yaml:{line}: alguinnov.topics[0]: unknown topic 'algea' (did you mean 'algae'?)" in result.err


def test_every_command_refuses_bad_config_before_fetching(veille, tmp_path, http):
    """collect on a bad configuration fetches nothing, creates no database and exits 2."""
    directory = write_config(tmp_path / "cfg", [feed_source("a", http.url("eau.rss")),
                                                feed_source("a", http.url("water.atom"))])
    for command in (["collect"], ["digest", "--send"], ["report"], ["run"]):
        result = veille("--config", directory, *command)
        assert result.code == 2, command
        assert "duplicate source name 'a'" in result.err
    assert http.requests == []
    assert not (directory / "veille.db").exists()


def test_topics_yaml_overrides_and_extends(veille, tmp_path, http):
    """A topics.yaml next to the config replaces a topic's rules and may add new topics."""
    directory = write_config(tmp_path, [feed_source("a", http.url("eau.rss"), topics=["pumps"])])
    (directory / "topics.yaml").write_text(
        "topics:\n  pumps:\n    label: Pumps\n    terms: [pompe, pump]\n")
    assert veille("--config", directory, "check").code == 0
    (directory / "topics.yaml").write_text("topics:\n  pumps:\n    label: Pumps\n    termz: [pompe]\n")
    result = veille("--config", directory, "check")
    assert result.code == 2 and "topics.yaml:4: topics.pumps.termz: unknown key 'termz'" in result.err


def test_bad_environment_setting(veille, tmp_path, monkeypatch, http):
    """A bad VEILLE_SMTP_TLS value is refused with exit 2, naming the variable."""
    directory = write_config(tmp_path, [feed_source("a", http.url("eau.rss"))])
    monkeypatch.setenv("VEILLE_SMTP_TLS", "maybe")
    result = veille("--config", directory, "check")
    assert result.code == 2 and "VEILLE_SMTP_TLS" in result.err


def _bomb(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join(lines) + f"\nsources: *l{levels - 1}\n"


HOSTILE_YAML = {
    "alias bomb": (_bomb(), "more than 200,000 values"),
    "deep nesting": ("sources:\n  - " + "[" * 100 + "]" * 100 + "\n", "nested more than 40 levels"),
    "bad bool tag": ("sources:\n  - name: a\n    enabled: !!bool maybe\n", "tag:yaml.org,2002:bool cannot hold"),
    "bad timestamp": ("sources:\n  - name: a\n    when: !!timestamp soon\n", "tag:yaml.org,2002:timestamp cannot"),
    "python tag": ("sources:\n  - !!python/object:os.system {}\n", "is not allowed here"),
    "python scalar": ("sources:\n  - name: !!python/name:os.system x\n", "cannot hold"),
    "list key": ("sources:\n  - ? [a, b]\n    : c\n", "a key must be a plain name"),
    "NUL byte": ("sources:\n  - name: a\x00\n", "a NUL byte"),
}


@pytest.mark.parametrize("name", list(HOSTILE_YAML))
@pytest.mark.parametrize("file", ["sources.yaml", "members.yaml", "topics.yaml"])
def test_hostile_yaml_is_refused_with_file_and_line(tmp_path, veille, name, file):
    """Alias bombs and deep nesting stop at a limit instead of hanging; bad tags, list keys and NUL bytes give
    `file:line` and exit 2, never a traceback."""
    directory = write_config(tmp_path, [feed_source("eau", "https://example.org/eau.rss")])
    text, expected = HOSTILE_YAML[name]
    (directory / file).write_text(text if file == "sources.yaml" else text.replace("sources:", "members:" if
                                  file == "members.yaml" else "topics:"), encoding="utf-8")
    result = veille("--config", directory, "check")
    assert result.code == 2, result.err
    assert f"{file}:" in result.err and expected in result.err, result.err
    assert "Traceback" not in result.err


def test_a_configuration_file_over_the_size_cap_is_refused(tmp_path, veille):
    directory = write_config(tmp_path, [feed_source("eau", "https://example.org/eau.rss")])
    (directory / "members.yaml").write_text("# padding\n" * 600_000, encoding="utf-8")
    result = veille("--config", directory, "check")
    assert result.code == 2 and "members.yaml: the file is" in result.err and "byte limit" in result.err


@pytest.mark.parametrize(("entry", "says"), [
    ("membrane AND (", "ends where a phrase is expected"), ("AND membrane", "'AND' where a phrase is expected"),
    ("biofilm OR OR sonde", "'OR' where a phrase is expected"), ("NOT", "ends where a phrase is expected"),
    ('sonde "multi', "unclosed quote"), ("(" * 9 + "membrane" + ")" * 9, "nested more than 8 levels"),
    ("membrane )", "unexpected ')'"), ("(eau OR water", "unclosed parenthesis"),
])
@pytest.mark.parametrize("field", ["keywords", "exclude"])
def test_a_malformed_keyword_expression_is_refused_by_every_command(tmp_path, veille, entry, says, field):
    """Refused with file:line: member.field[i] at check, and no command that loads the configuration starts."""
    member = {"id": "polymem", "name": "Polymem", "emails": ["a@x.example"], field: ["ultrafiltration", entry]}
    directory = write_config(tmp_path, [feed_source("eau", "https://example.org/eau.rss")], [member])
    for command in (["check"], ["collect"], ["report"], ["digest", "--dry-run"]):
        result = veille("--config", directory, *command)
        assert result.code == 2, command
        assert f"polymem.{field}[1]: " in result.err and says in result.err, result.err
        assert "members.yaml:" in result.err.splitlines()[0]
    assert not (directory / "veille.db").exists()  # nothing ran


def test_a_member_digest_without_emails_is_an_error(tmp_path, veille):
    member = {"id": "neosens", "name": "Neosens", "digest": True}
    directory = write_config(tmp_path, [feed_source("eau", "https://example.org/eau.rss")], [member])
    result = veille("--config", directory, "check")
    assert result.code == 2 and "neosens: digest: true needs at least one address in emails" in result.err
