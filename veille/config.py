"""Read and validate sources.yaml, members.yaml and topics.yaml; read VEILLE_* settings.

Every problem is reported at once, each with file, line and field; nothing runs on a bad configuration.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from veille import yamlfile
from veille.errors import ConfigError, Problem
from veille.models import Config, DigestSettings, Member, Source, Topic

SOURCES_FILE = "sources.yaml"
MEMBERS_FILE = "members.yaml"
TOPICS_FILE = "topics.yaml"

OptionsCheck = Callable[[str], type[BaseModel] | None]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Settings:
    """Per-deployment settings and secrets, read from VEILLE_* environment variables only."""

    db_url: str
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_tls: str
    mail_from: str
    tz: str
    site_url: str | None
    site_password: str | None = None
    site_secret: str | None = None
    http_timeout: float = 20.0
    host_delay: float = 1.0
    concurrency: int = 8
    reports_dir: Path = Path("reports")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


def read_settings(directory: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Return the settings from the environment, with defaults relative to the config folder."""
    env = os.environ if env is None else env
    tls = env.get("VEILLE_SMTP_TLS", "starttls").lower()
    problems = []
    if tls not in ("starttls", "ssl", "none"):
        problems.append(Problem("environment", None, "VEILLE_SMTP_TLS",
                                f"{tls!r} is not one of starttls, ssl, none"))
    port_text = env.get("VEILLE_SMTP_PORT") or ("465" if tls == "ssl" else "587")
    if not port_text.isdigit():
        problems.append(Problem("environment", None, "VEILLE_SMTP_PORT", f"{port_text!r} is not a port number"))
    tz = env.get("VEILLE_TZ", "Europe/Paris")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem("environment", None, "VEILLE_TZ", f"{tz!r} is not an IANA time zone"))
    timeout_text = env.get("VEILLE_HTTP_TIMEOUT", "20")
    try:
        http_timeout = float(timeout_text)
        if not 0 < http_timeout <= 600:
            raise ValueError
    except ValueError:
        problems.append(Problem("environment", None, "VEILLE_HTTP_TIMEOUT",
                                f"{timeout_text!r} is not a number of seconds between 0 and 600"))
    delay_text = env.get("VEILLE_HTTP_HOST_DELAY", "1")
    try:
        host_delay = float(delay_text)
        if not 0 <= host_delay <= 60:
            raise ValueError
    except ValueError:
        problems.append(Problem("environment", None, "VEILLE_HTTP_HOST_DELAY",
                                f"{delay_text!r} is not a number of seconds between 0 and 60"))
    concurrency_text = env.get("VEILLE_HTTP_CONCURRENCY", "8")
    if not concurrency_text.isdigit() or not 1 <= int(concurrency_text) <= 256:
        problems.append(Problem("environment", None, "VEILLE_HTTP_CONCURRENCY",
                                f"{concurrency_text!r} is not a number of requests between 1 and 256"))
    if problems:
        raise ConfigError(problems)
    default_db = f"sqlite:///{(directory / 'veille.db').resolve()}"
    return Settings(
        db_url=env.get("VEILLE_DB") or default_db,
        smtp_host=env.get("VEILLE_SMTP_HOST") or None,
        smtp_port=int(port_text),
        smtp_user=env.get("VEILLE_SMTP_USER") or None,
        smtp_password=env.get("VEILLE_SMTP_PASSWORD") or None,
        smtp_tls=tls,
        mail_from=env.get("VEILLE_MAIL_FROM") or "veille@localhost",
        tz=tz,
        site_url=(env.get("VEILLE_SITE_URL") or "").rstrip("/") or None,
        site_password=env.get("VEILLE_SITE_PASSWORD") or None,
        site_secret=env.get("VEILLE_SITE_SECRET") or None,
        http_timeout=http_timeout,
        host_delay=host_delay,
        concurrency=int(concurrency_text),
        reports_dir=Path(env.get("VEILLE_REPORTS") or directory / "reports"),
    )


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
    packaged = resources.files("veille.tag").joinpath("topics.yaml")
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
