"""Who may read the reports site: the shared password, or a member's sign-in token (pure functions).

Tokens themselves are made and checked in `veille/tokens.py` (the digest writes them too).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac


def basic_password(header: str | None) -> str | None:
    """The password of an HTTP Basic `Authorization` header (any user name), or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # not base64, not ASCII, not UTF-8
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
