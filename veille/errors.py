"""Exceptions raised by veille.

    VeilleError
    ├── ConfigError          bad sources.yaml / members.yaml / topics.yaml (exit 2), carries every Problem
    ├── InputError           bad argument or unreadable input file (exit 2)
    ├── SourceError          one source could not be collected; never fatal to a run
    │   ├── TransientSourceError   timeout, connection refused, 5xx, 429: worth retrying later
    │   └── TerminalSourceError    4xx, not a feed, refused address, too large: needs an admin
    └── DeliveryError        the SMTP server refused or failed (the digest files are kept)
"""

from __future__ import annotations

from dataclasses import dataclass


class VeilleError(Exception):
    """Base class of every error veille reports to the user."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One configuration problem, located in a file."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        if not self.file:  # a problem of the folder, not of a file in it
            return self.message
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


class ConfigError(VeilleError):
    """The configuration is invalid; `problems` lists each one with file and line."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class InputError(VeilleError):
    """A command-line argument or an input file is unusable."""

    exit_code = 2


class SourceError(VeilleError):
    """A source failed to collect; the run goes on with the others."""

    transient = False


class TransientSourceError(SourceError):
    transient = True

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after  # seconds the server asked us to wait (Retry-After)


class TerminalSourceError(SourceError):
    transient = False


class DeliveryError(VeilleError):
    """Sending an email failed; the digest files stay on disk."""
