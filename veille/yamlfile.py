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

    def line(self, path: Path_) -> int | None:
        """Return the line of `path`, or of its nearest located parent."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:end]))
            if found:
                return found
        return None

    def problem(self, path: Path_, message: str) -> Problem:
        return Problem(self.file, self.line(path), field_name(path), message)


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
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return None, [Problem(file, line, "", f"malformed YAML: {exc.problem or exc}")]
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
