"""Per-deployment settings and secrets: the VEILLE_* environment variables, declared once.

Each setting has its type, default and a one-line doc here; `README.md`'s table lists the same (a test
compares them). A bad value is a ConfigError naming the variable and what it accepts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from veille.errors import ConfigError, Problem

PREFIX = "VEILLE_"


def _setting(default: Any, doc: str, accepts: str = "", **limits: Any) -> Any:
    """A field with its doc (the README's third column) and what it accepts (said when a value is wrong)."""
    return Field(default, description=doc, json_schema_extra={"accepts": accepts}, **limits)


class Settings(BaseSettings):
    """The VEILLE_* settings; the folder-relative defaults are filled by `read_settings`."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", frozen=True,
                                      case_sensitive=False)

    # read by the command line before the folder is known (cli.main); declared here to be documented with the others
    config: Path | None = _setting(None, "folder of `sources.yaml` and `members.yaml` when `--config` is not given "
                                         "(default: the current directory)")
    db: str | None = _setting(None, "SQLAlchemy URL of the database, e.g. `postgresql+psycopg://user@host/veille` "
                                    "(default: `sqlite:///<config>/veille.db`)")
    smtp_host: str | None = _setting(None, "SMTP server; without it, emails go to `reports/<week>/outbox/*.eml`")
    smtp_port: int | None = _setting(None, "SMTP port (default: 587, or 465 with `ssl`)", "a port number",
                                     ge=1, le=65535)
    smtp_user: str | None = _setting(None, "SMTP login")
    smtp_password: str | None = Field(default=None, description="SMTP password (never logged)", repr=False)
    smtp_tls: Literal["starttls", "ssl", "none"] = _setting("starttls", "`starttls`, `ssl` or `none`",
                                                            "one of starttls, ssl, none")
    mail_from: str = _setting("veille@localhost", "sender address of the emails")
    tz: str = _setting("Europe/Paris", "time zone of weeks, dates and the weekly send", "an IANA time zone")
    reports: Path | None = _setting(None, "where digests are written (default: `<config>/reports`)")
    http_timeout: float = _setting(20.0, "seconds before a source request times out",
                                   "a number of seconds between 0 and 600", gt=0, le=600)
    http_concurrency: int = _setting(8, "requests in flight at once, all hosts together",
                                     "a number of requests between 1 and 256", ge=1, le=256)
    http_per_host: int = _setting(2, "requests in flight at once to one host",
                                  "a number of requests between 1 and 64", ge=1, le=64)
    http_host_delay: float = _setting(1.0, "seconds between the starts of two requests to the same host",
                                      "a number of seconds between 0 and 60", ge=0, le=60)
    http_source_deadline: float = _setting(300.0, "seconds one source may take, all its pages, counted from the "
                                                  "start of its first request (not while it waits for a free slot)",
                                           "a number of seconds between 1 and 3600", ge=1, le=3600)
    collect_processes: int | None = _setting(None, "processes that parse and tag what a collect fetches, beside "
                                                   "the one fetching and storing (default: one per CPU core but one, "
                                                   "at most 8; 0: none, parsing runs in the collecting process); a "
                                                   "collect of fewer than 8 sources parses in its own process",
                                             "a number of processes between 0 and 64", ge=0, le=64)
    worker_concurrency: int = _setting(4, "jobs one `veille worker` runs at once (each collects one source)",
                                       "a number of jobs between 1 and 64", ge=1, le=64)
    worker_heartbeat: float = _setting(10.0, "seconds between a worker's heartbeats in the database",
                                       "a number of seconds between 0.1 and 600", ge=0.1, le=600)
    worker_timeout: float = _setting(60.0, "seconds without a heartbeat after which a worker is taken to be dead "
                                           "and its running jobs are given to the others (more than the heartbeat)",
                                     "a number of seconds between 1 and 3600", ge=1, le=3600)
    schedule_tick: float = _setting(60.0, "seconds between two passes of the queue's scheduler (`veille run` on "
                                          "PostgreSQL) over the sources, to defer those due",
                                    "a number of seconds between 0.1 and 3600", ge=0.1, le=3600)
    site_lang: Literal["fr", "en"] = _setting("fr", "language of the reports site when the browser asks for "
                                                    "neither (`fr` or `en`)", "fr or en")
    site_url: str | None = _setting(None, "public address of the reports site; digests link to it")
    site_password: str | None = Field(default=None, description="shared password of the reports site (form, or HTTP "
                                                        "Basic with any user name)", repr=False)
    site_secret: str | None = Field(default=None, description="derives members' sign-in links to the site; changing it "
                                                      "revokes them all", repr=False)

    @field_validator("smtp_tls", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone") from None
        return value

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str | None) -> str | None:
        return (value or "").rstrip("/") or None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def db_url(self) -> str:
        return self.db or ""

    @property
    def reports_dir(self) -> Path:
        return self.reports or Path("reports")


def documented() -> dict[str, tuple[str, str]]:
    """{VEILLE_NAME: (default, doc)} of every setting, as the README's table shows them."""
    out = {}
    for name, info in Settings.model_fields.items():
        default = "" if info.default is None else str(info.default)
        out[PREFIX + name.upper()] = (default, info.description or "")
    return out


def _problems(exc: ValidationError, given: Mapping[str, str]) -> list[Problem]:
    problems = []
    for error in exc.errors():
        name = str(error["loc"][0])
        info = Settings.model_fields.get(name)
        name = name.upper()
        accepts = ((info.json_schema_extra or {}) if info else {}).get("accepts")  # type: ignore[union-attr]
        value = given.get(PREFIX + name, error.get("input"))
        what = f"is not {accepts}" if accepts else str(error["msg"]).removeprefix("Value error, ")
        problems.append(Problem("environment", None, PREFIX + name, f"{value!r} {what}"))
    return problems


def read_settings(directory: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Return the settings from `env` (default: the process environment), with the database and the reports
    folder relative to the configuration folder `directory` when not set; raise ConfigError on a bad value."""
    given = {k: v for k, v in (os.environ if env is None else env).items() if k.startswith(PREFIX) and v != ""}
    try:
        settings = Settings() if env is None else Settings.model_validate(
            {k.removeprefix(PREFIX).lower(): v for k, v in given.items()})
    except ValidationError as exc:
        raise ConfigError(_problems(exc, given)) from None
    return settings.model_copy(update={
        "db": settings.db or f"sqlite:///{(directory / 'veille.db').resolve()}",
        "reports": settings.reports or directory / "reports",
        "smtp_port": settings.smtp_port or (465 if settings.smtp_tls == "ssl" else 587),
    })
