"""Write digest files and deliver emails by SMTP, or to an outbox of .eml files: the digest's only I/O."""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from veille.errors import DeliveryError


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    tls: str  # starttls | ssl | none
    timeout: float = 30.0


def build_message(*, sender: str, recipient: str, subject: str, text: str, html: str,
                  now: datetime) -> EmailMessage:
    """Return a multipart/alternative message: the plain text first, then the HTML."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "veille")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def write_outbox(directory: Path, message: EmailMessage) -> Path:
    """Save `message` as an .eml file named after its recipient; return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9@._-]", "_", str(message["To"]))
    path = directory / f"{name}.eml"
    path.write_bytes(bytes(message))
    return path


RETRY_DELAYS = (1.0, 4.0)  # seconds before each new try of a message the server deferred (4xx)


@dataclass(frozen=True)
class Refusal:
    """The server's answer to a message it did not accept."""

    code: int
    reply: str

    @property
    def permanent(self) -> bool:
        return self.code >= 500

    def __str__(self) -> str:
        return f"{self.code} {self.reply}"


def _refusal(exc: smtplib.SMTPException) -> Refusal | None:
    """The refusal of one message (the session goes on), or None for a failure of the whole session."""
    reply: bytes | str
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
    elif isinstance(exc, smtplib.SMTPResponseException) and not isinstance(exc, smtplib.SMTPAuthenticationError):
        code, reply = exc.smtp_code, exc.smtp_error
    else:
        return None
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return Refusal(int(code), text)


def _session(smtp: SmtpSettings) -> smtplib.SMTP:
    """A connected, secured and logged-in SMTP client (use it as a context manager)."""
    if smtp.tls == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        if smtp.tls == "starttls":
            client.starttls(context=ssl.create_default_context())
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
    except BaseException:
        client.close()
        raise
    return client


def _send_one(client: smtplib.SMTP, message: EmailMessage, on_sent: Callable[[EmailMessage], None],
              on_refused: Callable[[EmailMessage, Refusal], None], sleep: Callable[[float], None]) -> None:
    """Send one message, trying a deferred (4xx) one again after each of RETRY_DELAYS; report the outcome."""
    for delay in (*RETRY_DELAYS, None):
        try:
            client.send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
            refusal = _refusal(exc)
            if refusal is None:
                raise
            if refusal.permanent or delay is None:
                on_refused(message, refusal)
                return
            sleep(delay)
        else:
            on_sent(message)
            return


def send(messages: list[EmailMessage], smtp: SmtpSettings,
         on_sent: Callable[[EmailMessage], None] = lambda m: None,
         on_refused: Callable[[EmailMessage, Refusal], None] = lambda m, r: None,
         sleep: Callable[[float], None] = time.sleep) -> None:
    """Send the messages over one SMTP session, one at a time.

    After each message the server accepted, `on_sent(message)` (so that a crash never sends it twice).
    A message refused for good (5xx) goes to `on_refused` and the others go on; one deferred (4xx) is tried
    again after RETRY_DELAYS, then reported to `on_refused` as deferred. A failure of the session itself
    (connection, TLS, login) raises DeliveryError naming the server; messages sent before it stay sent.
    """
    where = f"{smtp.host}:{smtp.port}"
    try:
        with _session(smtp) as client:
            for message in messages:
                _send_one(client, message, on_sent, on_refused, sleep)
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        raise DeliveryError(f"SMTP server {where} refused: {exc.smtp_code} {reply}") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"SMTP server {where}: {exc} (set VEILLE_SMTP_TLS=none for a server "
                            "without STARTTLS)") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"cannot deliver through SMTP server {where}: {exc}") from exc
