"""Write digest files and deliver emails by SMTP, or to an outbox of .eml files: the digest's only I/O."""

from __future__ import annotations

import re
import smtplib
import ssl
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


def send(messages: list[EmailMessage], smtp: SmtpSettings,
         on_sent: Callable[[EmailMessage], None] = lambda m: None) -> None:
    """Send the messages over one SMTP session, calling `on_sent` after each accepted one.

    Raises DeliveryError naming the server and its reply; messages sent before the failure stay sent.
    """
    where = f"{smtp.host}:{smtp.port}"
    try:
        if smtp.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password or "")
            for message in messages:
                client.send_message(message)
                on_sent(message)
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        raise DeliveryError(f"SMTP server {where} refused: {exc.smtp_code} {reply}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"SMTP server {where} refused recipients {', '.join(exc.recipients)}") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"SMTP server {where}: {exc} (set VEILLE_SMTP_TLS=none for a server "
                            "without STARTTLS)") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"cannot deliver through SMTP server {where}: {exc}") from exc
