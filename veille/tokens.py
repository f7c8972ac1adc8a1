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
from urllib.parse import quote, urlencode

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


# --- verdict links: "pertinent" / "pas pour nous" on one item, for one reader --------------------------------

GROUP = "group"  # the working group, as the reader of its digest and of the site with the shared password
VERDICTS = ("relevant", "not_relevant")
VERDICT_PATH = "/verdict/"  # the site's confirmation page of a verdict link


def verdict_path(reader: str, item_id: str, verdict: str, code: str) -> str:
    """The path and query of a verdict link (the digest writes it, the site serves it)."""
    return f"{VERDICT_PATH}{quote(item_id, safe='')}?{urlencode({'by': reader, 'v': verdict, 'sig': code})}"


def _reader_version(reader: str, members: Mapping[str, Member]) -> int | None:
    """The version a reader's verdict links are signed with: the member's `site_token` (0: none), 1 for the group;
    None for an unknown reader."""
    if reader == GROUP:
        return 1
    member = members.get(reader)
    return member.site_token if member is not None and member.site_token > 0 else None


def verdict_code(secret: str, reader: str, item_id: str, members: Mapping[str, Member]) -> str | None:
    """The signature of `reader`'s verdict links on one item (None without a secret, or for a reader without
    site access): the link records a verdict for that reader and that item only, and a member's links die with
    its sign-in links when an admin raises its `site_token`."""
    version = _reader_version(reader, members)
    if not secret or version is None:
        return None
    digest = hmac.new(secret.encode(), f"verdict:{reader}:{version}:{item_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def verdict_ok(secret: str | None, reader: str, item_id: str, code: str, members: Mapping[str, Member]) -> bool:
    """Whether `code` is the current signature of `reader`'s verdict links on `item_id`."""
    expected = verdict_code(secret or "", reader, item_id, members)
    return expected is not None and hmac.compare_digest(code.encode(), expected.encode())
