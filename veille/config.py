"""Read and validate sources.yaml, members.yaml and topics.yaml (the VEILLE_* settings: `settings.py`).

Every problem is reported at once, each with file, line and field; nothing runs on a bad configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from veille import yamlfile
from veille.errors import ConfigError, Problem
from veille.models import Config, DigestSettings, Member, Source, Topic

SOURCES_FILE = "sources.yaml"
MEMBERS_FILE = "members.yaml"
TOPICS_FILE = "topics.yaml"

OptionsCheck = Callable[[str], type[BaseModel] | None]
M = TypeVar("M", bound=BaseModel)


def _pydantic_problems(doc: yamlfile.LocatedYaml, base: yamlfile.Path_, exc: ValidationError,
                       model: type[BaseModel]) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            valid = ", ".join(model.model_fields)
            message = f"unknown key {loc[-1]!r}; valid keys: {valid}"
        elif error["type"] == "literal_error":
            message = f"{error.get('input')!r} is not valid; expected {error['ctx']['expected']}"
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(doc.problem((*base, *loc), message))
    return problems


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


def load(directory: Path, options_model: OptionsCheck) -> Config:
    """Return the validated configuration of `directory`, or raise ConfigError listing every problem.

    `options_model(type)` gives the pydantic model of a connector's `options`, or None for an
    unknown connector type (the caller knows the registry; configuration does not import stages).
    """
    problems: list[Problem] = []
    topics, topic_problems = load_topics(directory)
    problems += topic_problems
    topic_ids = {t.id for t in topics}

    sources = _load_sources(directory, topic_ids, options_model, problems)
    members, digest = _load_members(directory, topic_ids, problems)
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p.file != SOURCES_FILE, p.file, p.line or 0)))
    return Config(str(directory), tuple(sources), tuple(members), digest, topics)


def _models(doc: yamlfile.LocatedYaml, key: str, model: type[M], described: str,
            problems: list[Problem]) -> list[tuple[yamlfile.Path_, M]]:
    """Validate each entry of the `key` list as `model`; return (path, instance) of the valid ones."""
    try:
        entries = _entries(doc, key, required=key == "sources")
    except ConfigError as exc:
        problems += exc.problems
        return []
    valid = []
    for index, raw in entries:
        base: yamlfile.Path_ = (key, index)
        if not isinstance(raw, dict):
            problems.append(doc.problem(base, f"each entry must be a mapping ({described})"))
            continue
        try:
            valid.append((base, model(**raw)))
        except ValidationError as exc:
            problems += _pydantic_problems(doc, base, exc, model)
    return valid


def _unknown_topics(doc: yamlfile.LocatedYaml, base: yamlfile.Path_, topics: tuple[str, ...],
                    topic_ids: set[str]) -> list[Problem]:
    valid = ", ".join(sorted(topic_ids))
    return [doc.problem((*base, "topics", i), f"unknown topic {topic!r}; valid topics: {valid}")
            for i, topic in enumerate(topics) if topic not in topic_ids]


def _load_sources(directory: Path, topic_ids: set[str], options_model: OptionsCheck,
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
    for base, source in _models(doc, "sources", Source, "name, kind, type, url…", problems):
        if source.name in first_line:
            problems.append(doc.problem((*base, "name"), f"duplicate source name {source.name!r} "
                                                         f"(first at line {first_line[source.name]})"))
        first_line.setdefault(source.name, doc.line((*base, "name")) or 0)
        problems += _unknown_topics(doc, base, source.topics, topic_ids)
        model = options_model(source.type)
        if model is None:
            problems.append(doc.problem((*base, "type"), f"unknown connector type {source.type!r}"))
        else:
            try:
                model(**source.options)
            except ValidationError as exc:
                problems += _pydantic_problems(doc, (*base, "options"), exc, model)
        sources.append(source)
    return sources


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
    seen: set[str] = set()
    for base, member in _models(doc, "members", Member, "id, name, emails, topics…", problems):
        if member.id in seen:
            problems.append(doc.problem((*base, "id"), f"duplicate member id {member.id!r}"))
        seen.add(member.id)
        problems += _unknown_topics(doc, base, member.topics, topic_ids)
        members.append(member)
    return members, digest
