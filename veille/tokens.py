"""Members' sign-in tokens to the reports site (pure functions).

A member's token is `<member id>.<code>`, the code an HMAC of the member id and its `site_token`
version under VEILLE_SITE_SECRET: nothing is stored, an admin revokes a member's links by raising
`site_token` in members.yaml (0 closes the site to that member), and every link changes if the secret does.
The digest writes these tokens into its links and the site reads them back: both import this module.
"""

from __future__ import annotations

import base64
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
    expected = _code(secret, member.id, member.site_token).encode()
    # bytes, so that a token with other characters is refused like any wrong one (str needs ASCII)
    return member if hmac.compare_digest(code.encode(), expected) else None
