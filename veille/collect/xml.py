"""Safe XML parsing for the XML connectors (no network, no entity expansion)."""

from __future__ import annotations

from lxml import etree

from veille.errors import TerminalSourceError

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


def parse_xml(content: bytes, what: str) -> etree._Element:
    """Return the root element; raise TerminalSourceError naming `what` on malformed XML."""
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise TerminalSourceError(f"not a well-formed {what} XML document: {exc}") from exc
    if root is None:
        raise TerminalSourceError(f"empty {what} XML document")
    return root


def text(node: etree._Element | None) -> str | None:
    """Return the whitespace-normalised text content of `node` (all descendants), or None."""
    if node is None:
        return None
    value = " ".join("".join(node.itertext()).split())
    return value or None
