"""Deliver a digest's messages once each: the ledger of deliveries, the outbox of queued messages, SMTP.

Every message is queued in the ledger before it is sent and recorded as soon as the server accepts it, so a
run killed half-way sends the rest next time, exactly as it was built, and nobody twice. The ledger is the
store (any object with the `Ledger` methods): this module runs no SQL itself.
"""

from __future__ import annotations

import email
import email.policy
import logging
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol, cast

from veille.digest.deliver import Refusal, SmtpSettings, send, write_outbox
from veille.errors import DeliveryError

log = logging.getLogger("veille.digest")


class Ledger(Protocol):
    """Where deliveries are recorded (the store)."""

    def delivered(self, week: str, digest: str) -> dict[str, str]: ...
    def claim_delivery(self, week: str, recipient: str, digest: str, message: bytes, message_id: str,
                       now: datetime | None = None) -> bytes | None: ...
    def queue_delivery(self, week: str, recipient: str, digest: str, message: bytes, message_id: str) -> None: ...
    def record_delivery(self, week: str, recipient: str, digest: str, method: str, message_id: str | None,
                        status: str = "sent", detail: str | None = None, message: bytes | None = None) -> None: ...


@dataclass
class Email:
    recipient: str
    digest: str  # "full", "admin" or a member id
    subject: str
    status: str  # sent | outbox | already-sent | refused-earlier | would-send | refused | deferred | failed
    path: str | None = None


@dataclass
class Delivery:
    """What became of each message, and the error to report (None when all went out)."""

    emails: list[Email] = field(default_factory=list)
    error: str | None = None


def _email(digest: str, message: EmailMessage, status: str, path: str | None = None) -> Email:
    return Email(str(message["To"]), digest, str(message["Subject"]), status, path)


def to_outbox(messages: list[tuple[str, EmailMessage]], outbox: Path) -> Delivery:
    """Without an SMTP server: each message as an .eml file (the working group's in `outbox`, others below)."""
    done = Delivery()
    for digest_id, message in messages:
        path = write_outbox(outbox if digest_id == "full" else outbox / digest_id, message)
        done.emails.append(_email(digest_id, message, "outbox", str(path)))
    return done


_ANSWERED = {"sent": "already-sent", "refused": "refused-earlier", "sending": "being-sent-elsewhere"}


def _pending(messages: list[tuple[str, EmailMessage]], week: str, ledger: Ledger, resend: bool,
             done: Delivery) -> list[tuple[str, EmailMessage]]:
    """The messages this process sends, each claimed in the ledger first (a message queued by an interrupted
    run is sent as it was queued, not as just built); the others are reported as sent, refused, or being sent
    by another process."""
    pending = []
    for digest_id, message in messages:
        to, message_id = str(message["To"]), str(message["Message-ID"])
        if resend:  # sent again on purpose: this message replaces what the ledger holds
            ledger.queue_delivery(week, to, digest_id, bytes(message), message_id)
        claimed = ledger.claim_delivery(week, to, digest_id, bytes(message), message_id)
        if claimed is None:
            status = ledger.delivered(week, digest_id).get(to, "sent")
            done.emails.append(_email(digest_id, message, _ANSWERED.get(status, status)))
            continue
        pending.append((digest_id, cast(EmailMessage, email.message_from_bytes(claimed, policy=email.policy.default))))
    return pending


def by_smtp(messages: list[tuple[str, EmailMessage]], week: str, ledger: Ledger, smtp: SmtpSettings,
            resend: bool = False) -> Delivery:
    """Send what is left to send over one SMTP session, recording each answer in the ledger at once."""
    done = Delivery()
    pending = _pending(messages, week, ledger, resend, done)
    if not pending:
        return done
    by_message = {id(m): d for d, m in pending}
    refused: list[str] = []

    def sent(message: EmailMessage) -> None:
        digest_id, to = by_message[id(message)], str(message["To"])
        log.info("sent %s to %s", digest_id, to, extra={"week": week, "recipient": to, "status": "sent"})
        ledger.record_delivery(week, to, digest_id, "smtp", str(message["Message-ID"]))
        done.emails.append(_email(digest_id, message, "sent"))

    def not_sent(message: EmailMessage, refusal: Refusal) -> None:
        digest_id, to = by_message[id(message)], str(message["To"])
        if refusal.permanent:  # recorded, reported, not tried again unless --resend
            ledger.record_delivery(week, to, digest_id, "smtp", str(message["Message-ID"]), "refused", str(refusal))
        else:  # deferred: given back, the next run sends it
            ledger.record_delivery(week, to, digest_id, "smtp", str(message["Message-ID"]), "queued", str(refusal),
                                   bytes(message))
        status = "refused" if refusal.permanent else "deferred"
        log.warning("%s %s to %s: %s", status, digest_id, to, refusal,
                    extra={"week": week, "recipient": to, "status": status, "error": str(refusal)})
        done.emails.append(_email(digest_id, message, status))
        refused.append(f"{to}: {refusal}")

    try:
        send([m for _, m in pending], smtp, sent, not_sent)
    except DeliveryError as exc:
        done.error = str(exc)
        answered = {(e.recipient, e.digest) for e in done.emails}
        for digest_id, message in pending:
            if (str(message["To"]), digest_id) not in answered:  # given back for the next run
                ledger.record_delivery(week, str(message["To"]), digest_id, "smtp", str(message["Message-ID"]),
                                       "queued", str(exc), bytes(message))
                done.emails.append(_email(digest_id, message, "failed"))
    if refused and not done.error:
        many = "s" if len(refused) != 1 else ""
        done.error = (f"SMTP server {smtp.host}:{smtp.port} did not accept {len(refused)} message{many}: "
                      f"{'; '.join(refused)}")
    return done
