"""Who may read the reports site: the shared password, or a member's sign-in token (pure functions).

A member's token is `<member id>.<code>`, the code an HMAC of the member id and its `site_token`
version under VEILLE_SITE_SECRET: nothing is stored, an admin revokes a member's links by raising
`site_token` in members.yaml (0 closes the site to that member), and every link changes if the secret does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from veille.models import Member


def _code(secret: str, member_id: str, version: int) -> str:
    digest = hmac.new(secret.encode(), f"site-token:{member_id}:{version}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def member_token(secret: str, member: Member) -> str | None:
    """The member's current sign-in token, or None when the member has no site access."""
    if not secret or member.site_token <= 0:
        return None
    return f"{member.id}.{_code(secret, member.id, member.site_token)}"


def token_member(secret: str | None, token: str, members: Mapping[str, Member]) -> Member | None:
    """The member whose current token this is, or None (unknown, revoked, forged, or no secret set)."""
    if not secret or "." not in token:
        return None
    member_id, _, code = token.rpartition(".")
    member = members.get(member_id)
    if member is None or member.site_token <= 0:
        return None
    return member if hmac.compare_digest(code, _code(secret, member.id, member.site_token)) else None


def basic_password(header: str | None) -> str | None:
    """The password of an HTTP Basic `Authorization` header (any user name), or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] if ":" in decoded else None


def password_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(given.encode(), expected.encode())  # type: ignore[union-attr]


def fingerprint(password: str) -> str:
    """A short hash of the shared password kept in sessions: changing the password signs everyone out."""
    return hashlib.sha256(f"veille-site:{password}".encode()).hexdigest()[:16]


def session_key(secret: str | None, password: str | None) -> str | None:
    """The key that signs session cookies: from the secret, else from the password (None: site closed)."""
    if secret:
        return hashlib.sha256(f"veille-session:{secret}".encode()).hexdigest()
    if password:
        return hashlib.sha256(f"veille-session-password:{password}".encode()).hexdigest()
    return None
