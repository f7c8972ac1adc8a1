"""An open deployment: the validated configuration, the VEILLE_* settings, the store, the tagger and the clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from veille import config as config_module
from veille.errors import VeilleError
from veille.models import Config, FetchState
from veille.settings import Settings, read_settings

if TYPE_CHECKING:
    from veille.collect.http import HttpSettings
    from veille.digest.deliver import SmtpSettings
    from veille.store import Store
    from veille.tag import Tagger


def wall_clock() -> datetime:
    """Now, in UTC: the clock of a deployment (tests give their own)."""
    return datetime.now(UTC)


@dataclass
class Context:
    """A validated configuration, its settings, an open store; the tagger is compiled when first used."""

    config: Config
    settings: Settings
    store: Store
    clock: Callable[[], datetime] = field(default=wall_clock)
    _tagger: Tagger | None = field(default=None, repr=False)
    _compiling: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def tagger(self) -> Tagger:
        """The taxonomy and member profiles compiled (only the commands that tag items pay for it), once even
        when parsing threads first ask for it together."""
        if self._tagger is None:
            with self._compiling:
                if self._tagger is None:
                    from veille.tag import Tagger

                    self._tagger = Tagger.build(self.config.topics, self.config.members)
        return self._tagger

    def http(self) -> HttpSettings:
        """The limits every fetch obeys, from the VEILLE_HTTP_* settings."""
        from veille.collect.http import HttpSettings

        s = self.settings
        return HttpSettings(timeout=s.http_timeout, host_delay=s.http_host_delay, concurrency=s.http_concurrency,
                            per_host=s.http_per_host, source_deadline=s.http_source_deadline)

    def smtp(self) -> SmtpSettings | None:
        """The SMTP server from the VEILLE_SMTP_* settings, or None (emails go to the outbox folder)."""
        from veille.digest.deliver import SmtpSettings

        s = self.settings
        if not s.smtp_host:
            return None
        return SmtpSettings(s.smtp_host, s.smtp_port or 587, s.smtp_user, s.smtp_password, s.smtp_tls)

    def close(self) -> None:
        self.store.close()


def load_config(directory: Path) -> Config:
    """Validate the configuration folder (raises ConfigError listing every problem)."""
    from veille.collect.connectors import REGISTRY, options_model

    return config_module.load(directory, options_model, sorted(REGISTRY))


def stored_fetch_states(settings: Settings) -> dict[str, FetchState]:
    """What the store remembers of each source, when there is a store already (none is created for this)."""
    from veille.store import Store

    try:
        store = Store.open(settings.db_url, readonly=True)  # no database: an empty store, nothing created
    except VeilleError:  # an older database, or one that cannot be reached: no warning from it
        return {}
    try:
        return store.fetch_states()
    finally:
        store.close()


def open_context(directory: Path, env: Mapping[str, str] | None = None,
                 clock: Callable[[], datetime] | None = None, *, readonly: bool = False) -> Context:
    """Validate the configuration, read the VEILLE_* settings (from `env` or the environment), open the store;
    `clock` gives "now" (the wall clock by default). `readonly`: for a command that writes nothing, the store is
    neither created nor migrated (no database yet reads as an empty one)."""
    from veille.store import Store

    config = load_config(directory)
    settings = read_settings(directory, env)
    clock = clock or wall_clock
    return Context(config, settings, Store.open(settings.db_url, clock, readonly=readonly), clock)
