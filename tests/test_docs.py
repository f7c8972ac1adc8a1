"""Every command, option, configuration key and environment variable is documented."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from veille.cli import build_parser
from veille.collect.connectors import REGISTRY
from veille.collect.connectors.generic import FieldMap
from veille.collect.connectors.page import PageOptions
from veille.models import DigestSettings, Member, Source, Topic

ROOT = Path(__file__).resolve().parents[1]
COMMANDS_DOC = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
CONFIG_DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXPORTS_DOC = (ROOT / "docs" / "exports.md").read_text(encoding="utf-8")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_and_option_is_documented():
    parser = build_parser()
    global_flags = {flag for action in parser._actions for flag in action.option_strings}
    for option in ("--config", "--debug", "--version", "-v", "--verbose", "-q", "--quiet"):
        assert f"`{option}" in COMMANDS_DOC
    for name, sub in _subparsers(parser).items():
        assert f"## {name}\n" in COMMANDS_DOC, name
        section = COMMANDS_DOC.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        for action in sub._actions:
            for flag in action.option_strings:
                if flag not in global_flags:  # the global options, documented once at the top, any command takes
                    assert flag in section, f"{name} {flag}"


def test_every_configuration_key_is_documented():
    for model in (Source, Member, DigestSettings, Topic, PageOptions):
        for key in model.model_fields:
            if model is Topic and key == "id":
                continue
            assert f"`{key}`" in CONFIG_DOC, f"{model.__name__}.{key}"


def test_every_connector_and_option_is_documented():
    for name, connector in REGISTRY.items():
        assert f"| `{name}` |" in CONFIG_DOC, name
        for key in connector.options.model_fields:
            assert f"`{key}`" in CONFIG_DOC, f"{name}.{key}"
    for key in FieldMap.model_fields:
        assert f"`{key}`" in CONFIG_DOC, f"fields.{key}"


def test_every_environment_variable_is_a_documented_setting():
    """The settings model is the one list of VEILLE_* variables: the code names no other, the README's table
    gives each with the model's default and doc (and nothing else), the configuration reference names each."""
    from veille.settings import documented

    settings = documented()
    used = set()
    for path in (ROOT / "veille").rglob("*.py"):
        used |= set(re.findall(r"VEILLE_[A-Z][A-Z_]*", path.read_text(encoding="utf-8")))
    families = {name for name in used if name.endswith("_")}  # "the VEILLE_HTTP_* settings"
    assert all(any(s.startswith(f) for s in settings) for f in families), families
    assert used and used - families <= set(settings) | {"VEILLE_NAME"}, used - families - set(settings)
    table = README.split("| variable | default | meaning |", 1)[1].split("\n\n", 1)[0]
    rows = {m[0]: (m[1], m[2]) for m in re.findall(r"^\| `(VEILLE_\w+)` \| (.+?) \| (.+) \|$", table, re.M)}
    assert rows == {name: (f"`{default}`" if default else "(none)", doc) for name, (default, doc) in settings.items()}
    for name in settings:
        assert f"`{name}`" in CONFIG_DOC, name


def test_every_spreadsheet_column_is_documented_with_its_headers():
    """docs/exports.md gives each column of the CSV and XLSX files with its French and English header."""
    from veille.digest.files import CSV_COLUMNS as DIGEST_COLUMNS
    from veille.export.formats import CSV_COLUMNS
    from veille.sheets import HEADERS

    for column in {*CSV_COLUMNS, *DIGEST_COLUMNS}:
        headers = HEADERS[column]
        assert f"| {column} | `{headers['fr']}` | `{headers['en']}` |" in EXPORTS_DOC, column


def test_quick_start_has_the_two_commands():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick.split("```sh", 1)[1].split("```", 1)[0].splitlines()]
    assert [c for c in commands if c] == ["make demo", "make test"]
