"""Read and validate sources.yaml, members.yaml and topics.yaml (the VEILLE_* settings: `settings.py`).

Every problem is reported at once, each with file, line and field; nothing runs on a bad configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from veille import yamlfile
from veille.errors import ConfigError, Problem
from veille.models import Config, DigestSettings, Member, Source, Topic
from veille.problems import did_you_mean, plain

SOURCES_FILE = "sources.yaml"
MEMBERS_FILE = "members.yaml"
TOPICS_FILE = "topics.yaml"

OptionsCheck = Callable[[str], type[BaseModel] | None]
M = TypeVar("M", bound=BaseModel)


def _pydantic_problems(doc: yamlfile.LocatedYaml, base: yamlfile.Path_, exc: ValidationError,
                       model: type[BaseModel]) -> list[Problem]:
    return [doc.problem((*base, *error["loc"]), plain(error, model.model_fields)) for error in exc.errors()]


def _entries(doc: yamlfile.LocatedYaml, key: str, required: bool) -> list[tuple[int, Any]]:
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError([doc.problem((), f"the file must be a mapping with a top-level '{key}:' list")])
    value = data.get(key)
    if value is None:
        if required:
            raise ConfigError([doc.problem((), f"missing top-level '{key}:' list")])
        return []
    if not isinstance(value, list):
        raise ConfigError([doc.problem((key,), f"'{key}' must be a list")])
    return list(enumerate(value))


def load_topics(directory: Path) -> tuple[tuple[Topic, ...], list[Problem]]:
    """Return the taxonomy: the packaged topics.yaml, overridden or extended by the config folder's."""
    packaged = resources.files("veille").joinpath("tag", "topics.yaml")  # the file only: no import of the tag stage
    with resources.as_file(packaged) as packaged_path:
        docs = [yamlfile.load(packaged_path)]
    local = directory / TOPICS_FILE
    if local.exists():
        docs.append(yamlfile.load(local))
    topics: dict[str, Topic] = {}
    problems: list[Problem] = []
    for doc, doc_problems in docs:
        problems += doc_problems
        if doc is None:
            continue
        data = doc.data.get("topics") if isinstance(doc.data, dict) else None
        if not isinstance(data, dict):
            problems.append(doc.problem((), "expected a top-level 'topics:' mapping of topic ID to rules"))
            continue
        extra = set(doc.data) - {"topics"}
        problems += [doc.problem((key,), f"unknown key {key!r}; valid keys: topics") for key in sorted(extra)]
        for topic_id, body in data.items():
            if not isinstance(body, dict):
                problems.append(doc.problem(("topics", topic_id), "expected a mapping of rules"))
                continue
            try:
                topics[topic_id] = Topic(id=topic_id, **body)
            except ValidationError as exc:
                problems += _pydantic_problems(doc, ("topics", topic_id), exc, Topic)
    return tuple(topics.values()), problems


def missing_file(directory: Path, name: str) -> Problem:
    """The problem of a configuration folder without `name`, saying how to fix it."""
    where = directory if str(directory) not in ("", ".") else Path.cwd()
    return Problem("", None, "", f"no {name} in {where}: use --config DIR or VEILLE_CONFIG to point at the "
                                 f"configuration folder, or write the commented files with `veille init {directory}`")


def load(directory: Path, options_model: OptionsCheck, known_types: Sequence[str] = ()) -> Config:
    """Return the validated configuration of `directory`, or raise ConfigError listing every problem.

    `options_model(type)` gives the pydantic model of a connector's `options`, or None for an
    unknown connector type, and `known_types` their names (the caller knows the registry; configuration does not
    import stages).
    """
    missing = [name for name in (SOURCES_FILE, MEMBERS_FILE) if not (directory / name).is_file()]
    if missing:  # a folder with no configuration at all: one message, about sources.yaml
        raise ConfigError([missing_file(directory, missing[0])])
    problems: list[Problem] = []
    topics, topic_problems = load_topics(directory)
    problems += topic_problems
    topic_ids = {t.id for t in topics}

    sources = _load_sources(directory, topic_ids, options_model, tuple(known_types), problems)
    members, digest = _load_members(directory, topic_ids, problems)
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p.file != SOURCES_FILE, p.file, p.line or 0)))
    return Config(str(directory), tuple(sources), tuple(members), digest, topics)


def _models(doc: yamlfile.LocatedYaml, key: str, model: type[M], label: str, described: str,
            problems: list[Problem]) -> list[tuple[yamlfile.Path_, dict[str, Any], M | None]]:
    """Validate each entry of the `key` list as `model`, naming it by its `label` field in problems; return
    (path, raw mapping, instance or None when invalid) of every mapping entry, for the checks across entries."""
    try:
        entries = _entries(doc, key, required=key == "sources")
    except ConfigError as exc:
        problems += exc.problems
        return []
    found: list[tuple[yamlfile.Path_, dict[str, Any], M | None]] = []
    for index, raw in entries:
        base: yamlfile.Path_ = (key, index)
        if not isinstance(raw, dict):
            problems.append(doc.problem(base, f"each entry must be a mapping ({described})"))
            continue
        if isinstance(raw.get(label), str) and raw[label].strip():
            doc.name(base, raw[label].strip())
        try:
            found.append((base, raw, model(**raw)))
        except ValidationError as exc:
            problems += _pydantic_problems(doc, base, exc, model)
            found.append((base, raw, None))
    return found


def _unknown_topics(doc: yamlfile.LocatedYaml, base: yamlfile.Path_, topics: object,
                    topic_ids: set[str]) -> list[Problem]:
    if not isinstance(topics, list | tuple):
        return []
    valid = ", ".join(sorted(topic_ids))
    return [doc.problem((*base, "topics", i), f"unknown topic {topic!r}{did_you_mean(topic, topic_ids)}; "
                                              f"valid topics: {valid}")
            for i, topic in enumerate(topics) if isinstance(topic, str) and topic not in topic_ids]


def _duplicate(doc: yamlfile.LocatedYaml, base: yamlfile.Path_, raw: dict[str, Any], key: str, what: str,
               first_line: dict[str, int]) -> list[Problem]:
    """A problem when the entry's `key` was already used by an earlier entry (any entry, valid or not)."""
    value = raw.get(key)
    if not isinstance(value, str):
        return []
    if value in first_line:
        return [doc.problem((*base, key), f"duplicate {what} {value!r} (first at line {first_line[value]})")]
    first_line[value] = doc.line((*base, key)) or 0
    return []


def _load_sources(directory: Path, topic_ids: set[str], options_model: OptionsCheck, known_types: tuple[str, ...],
                  problems: list[Problem]) -> list[Source]:
    doc, syntax = yamlfile.load(directory / SOURCES_FILE)
    problems += syntax
    if doc is None or syntax:
        return []
    if isinstance(doc.data, dict):
        extra = set(doc.data) - {"sources"}
        problems += [doc.problem((k,), f"unknown key {k!r}; valid keys: sources") for k in sorted(extra)]
    sources: list[Source] = []
    first_line: dict[str, int] = {}
    for base, raw, source in _models(doc, "sources", Source, "name", "name, kind, type, url…", problems):
        problems += _duplicate(doc, base, raw, "name", "source name", first_line)
        problems += _unknown_topics(doc, base, raw.get("topics"), topic_ids)
        problems += _connector_problems(doc, base, raw, options_model, known_types)
        if source is not None:
            sources.append(source)
    return sources


def _connector_problems(doc: yamlfile.LocatedYaml, base: yamlfile.Path_, raw: dict[str, Any],
                        options_model: OptionsCheck, known_types: tuple[str, ...]) -> list[Problem]:
    """The entry's connector type, and its options checked against that connector's."""
    kind = raw.get("type")
    if not isinstance(kind, str):
        return []
    model = options_model(kind)
    if model is None:
        known = list(known_types)
        return [doc.problem((*base, "type"), f"unknown connector type {kind!r}{did_you_mean(kind, known)}; "
                                             f"known types: {', '.join(known)}")]
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        return []  # the model's own problem says that options must be a mapping
    try:
        model(**options)
    except ValidationError as exc:
        return _pydantic_problems(doc, (*base, "options"), exc, model)
    return []


def _load_members(directory: Path, topic_ids: set[str],
                  problems: list[Problem]) -> tuple[list[Member], DigestSettings]:
    path = directory / MEMBERS_FILE
    if not path.exists():
        return [], DigestSettings()
    doc, syntax = yamlfile.load(path)
    problems += syntax
    if doc is None or syntax:
        return [], DigestSettings()
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "the file must be a mapping with 'digest:' and 'members:'"))
        return [], DigestSettings()
    extra = set(doc.data) - {"members", "digest"}
    problems += [doc.problem((k,), f"unknown key {k!r}; valid keys: digest, members") for k in sorted(extra)]
    digest = DigestSettings()
    raw_digest = doc.data.get("digest") or {}
    if not isinstance(raw_digest, dict):
        problems.append(doc.problem(("digest",), "'digest' must be a mapping"))
    else:
        try:
            digest = DigestSettings(**raw_digest)
        except ValidationError as exc:
            problems += _pydantic_problems(doc, ("digest",), exc, DigestSettings)
    members: list[Member] = []
    first_line: dict[str, int] = {}
    for base, raw, member in _models(doc, "members", Member, "id", "id, name, emails, topics…", problems):
        problems += _duplicate(doc, base, raw, "id", "member id", first_line)
        problems += _unknown_topics(doc, base, raw.get("topics"), topic_ids)
        if member is not None:
            members.append(member)
    return members, digest
