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


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int], problems: list[Problem], file: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in result:
                problems.append(Problem(file, key_node.start_mark.line + 1, field_name((*path, key)),
                                        f"duplicate key {key!r}"))
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _walk(value_node, (*path, key), lines, problems, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(child, (*path, i), lines, problems, file) for i, child in enumerate(node.value)]
    return _SCALARS.construct_object(node)  # typed exactly as yaml.safe_load types scalars


def load(path: Path) -> tuple[LocatedYaml | None, list[Problem]]:
    """Parse a YAML file; return the located document, or None and the syntax problem."""
    file = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, None, "", f"cannot read the file: {exc}")]
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return None, [Problem(file, line, "", f"malformed YAML: {exc.problem or exc}")]
    if node is None:
        return LocatedYaml(file, {}, {}), []
    problems: list[Problem] = []
    lines: dict[Path_, int] = {}
    data = _walk(node, (), lines, problems, file)
    return LocatedYaml(file, data, lines), problems
