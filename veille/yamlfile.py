"""Read a YAML file keeping the line of every key and list entry, for error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from veille.errors import Problem

Path_ = tuple[str | int, ...]
_SCALARS = yaml.SafeLoader("")
# libyaml's parser when PyYAML was built with it (the wheels are): the same nodes, several times faster
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_BYTES = 5 * 1024 * 1024  # a configuration file of 250 members and thousands of sources is well under 1 MB
MAX_NODES = 200_000  # values in one document, aliases expanded
MAX_DEPTH = 40
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def field_name(path: Path_) -> str:
    """Return a path as people write it: sources[3].options.item."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class LocatedYaml:
    """A parsed YAML document and the line number of each path inside it."""

    def __init__(self, file: str, data: Any, lines: dict[Path_, int]):
        self.file = file
        self.data = data
        self.lines = lines
        self.names: dict[Path_, str] = {}  # list entries named by their name or id: "polymem.emails"

    def name(self, path: Path_, label: str) -> None:
        """Call the entry at `path` (a list position) by `label` in problems."""
        self.names[path] = label

    def field(self, path: Path_) -> str:
        """`path` as people write it, an entry named by its label: polymem.emails, else members[3].emails."""
        for end in range(len(path), 0, -1):
            label = self.names.get(tuple(path[:end]))
            if label:
                return label + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[end:])
        return field_name(path)

    def line(self, path: Path_) -> int | None:
        """Return the line of `path`, or of its nearest located parent."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:end]))
            if found:
                return found
        return None

    def problem(self, path: Path_, message: str) -> Problem:
        return Problem(self.file, self.line(path), self.field(path), message)


class _Refused(Exception):
    """A document beyond the limits, or with a value YAML cannot build: one problem, at a line."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


class _Walk:
    """The document built from its nodes, each path's line noted, within MAX_NODES values and MAX_DEPTH levels
    (an alias expanded counts again: a "billion laughs" document stops at the limit, at once)."""

    def __init__(self, file: str):
        self.file = file
        self.lines: dict[Path_, int] = {}
        self.problems: list[Problem] = []
        self.count = 0

    def value(self, node: yaml.Node, path: Path_) -> Any:
        line = node.start_mark.line + 1
        self.count += 1
        if self.count > MAX_NODES:
            raise _Refused(line, f"more than {MAX_NODES:,} values (aliases included): is an alias repeated "
                                 "in a loop? A configuration file is far smaller")
        if len(path) > MAX_DEPTH:
            raise _Refused(line, f"nested more than {MAX_DEPTH} levels deep")
        self.lines.setdefault(path, line)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN_TAGS:
            raise _Refused(line, f"the tag {node.tag} is not allowed here: write a plain list or mapping")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(child, (*path, i)) for i, child in enumerate(node.value)]
        try:
            return _SCALARS.construct_object(node)  # typed exactly as yaml.safe_load types scalars
        except Exception as exc:  # a bad tag: !!bool maybe, !!timestamp soon, !!python/name… (PyYAML raises
            # KeyError or AttributeError for some of them, YAMLError for others)
            why = getattr(exc, "problem", None) or "not a value of that type"
            raise _Refused(line, f"{node.tag} cannot hold {str(node.value)[:80]!r}: {why}") from None

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(line, "a key must be a plain name, not a list or a mapping (is a ':' misplaced?)")
            key = key_node.value
            if key in result:
                self.problems.append(Problem(self.file, line, field_name((*path, key)), f"duplicate key {key!r}"))
            self.lines[(*path, key)] = line
            result[key] = self.value(value_node, (*path, key))
        return result


_INDENTATION = ("the indentation does not line up with the lines above: the keys of one entry start in the same "
                "column, and the '-' of every entry of a list too (indent with spaces)")
# PyYAML's problem (both its C and Python parsers) → what it means for someone editing the file
_SYNTAX = [
    ("mapping values are not allowed", "a second ':' on this line: put the value in quotes (name: \"Eau : "
                                       "station\") or check the indentation"),
    ("did not find expected '-' indicator", _INDENTATION),
    ("did not find expected key", _INDENTATION),
    ("expected <block end>", _INDENTATION),
    ("could not find expected ':'", "a line without ':' inside a mapping: write key: value (or indent it under "
                                    "the key it continues)"),
    ("expected ',' or ']'", "a list opened with '[' is not closed with ']' (or two items lack the "
                                         "comma between them)"),
    ("expected ',' or '}'", "a mapping opened with '{' is not closed with '}' (or two entries lack "
                                         "the comma between them)"),
    ("found undefined alias", "a value starting with '*' is read as a reference to an '&anchor' defined above: "
                              "put it in quotes"),
    ("found unexpected end of stream", "a quote opened here is never closed"),
    ("found unknown escape character", "a backslash in double quotes starts an escape: use single quotes, or "
                                       "write \\\\ for one backslash"),
]


def syntax_problem(exc: yaml.MarkedYAMLError, text: str) -> tuple[int | None, str]:
    """(the line, a sentence with a hint) for a YAML syntax error, instead of the parser's own words."""
    problem = str(exc.problem or exc)
    opened = "quoted scalar" in str(exc.context or "") or "flow" in str(exc.context or "")
    mark = (exc.context_mark if opened and exc.context_mark else None) or exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    if "cannot start any token" in problem or "found character" in problem:
        char = text[mark.index] if mark is not None and mark.index < len(text) else ""
        if char == "\t":
            return line, "a tab character: YAML indents with spaces only (replace the tab by spaces)"
        return line, f"a value cannot start with {char!r}: put the whole value in quotes ('{char}…')"
    for words, meaning in _SYNTAX:
        if words in problem:
            return line, meaning
    return line, f"this line cannot be read as YAML ({problem}): check its indentation, colons and quotes"


def load(path: Path) -> tuple[LocatedYaml | None, list[Problem]]:
    """Parse a YAML file; return the located document, or None and the syntax problem."""
    file = path.name
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, [Problem(file, None, "", f"the file is {size:,} bytes: over the {MAX_BYTES:,}-byte limit "
                                                  "of a configuration file")]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, None, "", f"cannot read the file: {exc}")]
    if "\x00" in text:
        nul_line = text.count("\n", 0, text.index("\x00")) + 1
        return None, [Problem(file, nul_line, "", "a NUL byte: this is not a text file")]
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        line, message = syntax_problem(exc, text)
        return None, [Problem(file, line, "", message)]
    except yaml.YAMLError as exc:  # the reader's errors (characters YAML refuses) carry no mark
        return None, [Problem(file, None, "", f"malformed YAML: {exc}")]
    if node is None:
        return LocatedYaml(file, {}, {}), []
    walk = _Walk(file)
    try:
        data = walk.value(node, ())
    except _Refused as exc:
        return None, [Problem(file, exc.line, "", exc.message)]
    return LocatedYaml(file, data, walk.lines), walk.problems
