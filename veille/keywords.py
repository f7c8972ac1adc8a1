"""Member keyword expressions: phrases combined with AND, OR, NOT and parentheses (pure functions).

    ultrafiltration OR "hollow fibre"
    membrane AND (eau OR water) AND NOT "membrane d'étanchéité"

A bare list entry is one phrase; operators are upper-case words; quotes group a phrase. Phrases are
found by the same matcher as topic rules (case, accents, plurals). A malformed entry is refused (`check`
raises ValueError saying what is wrong): the configuration names it, rather than a rule that never matches.
This module is shared: the configuration checks the entries, the tag stage compiles them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

_TOKEN = re.compile(r'\s*(?:(\()|(\))|"([^"]*)"|([^\s()"]+))')
_OPERATORS = {"AND", "OR", "NOT"}
MAX_DEPTH = 8  # parentheses and NOTs nested; a member's profile needs two or three


@dataclass(frozen=True)
class Phrase:
    text: str


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]


Expr = Phrase | Not | And | Or


def _tokens(text: str) -> list[str | Phrase]:
    out: list[str | Phrase] = []
    words: list[str] = []
    for m in _TOKEN.finditer(text):
        opening, closing, quoted, word = m.groups()
        if word is not None and word not in _OPERATORS:
            words.append(word)
            continue
        if words:
            out.append(Phrase(" ".join(words)))
            words = []
        if quoted is not None:
            out.append(Phrase(quoted))
        else:
            out.append(str(opening or closing or word))
    if words:
        out.append(Phrase(" ".join(words)))
    return out


def parse(text: str) -> Expr:
    """Return the expression tree of a keyword entry; raise ValueError saying what is wrong with a malformed one
    (an unclosed quote or parenthesis, an operator without its operand, nesting deeper than MAX_DEPTH)."""
    if text.count('"') % 2:
        raise ValueError(f"unclosed quote in {text!r}")
    tokens = _tokens(text)
    if not tokens:
        raise ValueError("empty keyword")
    pos = 0
    depth = 0

    def peek() -> str | Phrase | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str | Phrase:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def parse_or() -> Expr:
        parts = [parse_and()]
        while peek() == "OR":
            take()
            parts.append(parse_and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and() -> Expr:
        parts = [parse_not()]
        while peek() not in (None, "OR", ")"):
            if peek() == "AND":
                take()
            parts.append(parse_not())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_not() -> Expr:
        nonlocal depth
        token = take() if peek() is not None else None
        if token == "NOT" or token == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError(f"nested more than {MAX_DEPTH} levels deep in {text!r}")
            inner = Not(parse_not()) if token == "NOT" else parse_or()
            if token == "(" and (peek() != ")" or take() is None):
                raise ValueError(f"unclosed parenthesis in {text!r}")
            depth -= 1
            return inner
        if isinstance(token, Phrase):
            return token
        if token is None:
            raise ValueError(f"{text!r} ends where a phrase is expected (after {tokens[-1]!r})")
        raise ValueError(f"{token!r} where a phrase is expected in {text!r}")

    expr = parse_or()
    if pos != len(tokens):
        raise ValueError(f"unexpected {tokens[pos]!r} in {text!r}")
    return expr


def phrases(expr: Expr) -> Iterator[str]:
    """Every phrase of an expression (to compile them all into the matcher)."""
    if isinstance(expr, Phrase):
        yield expr.text
    elif isinstance(expr, Not):
        yield from phrases(expr.operand)
    else:
        for operand in expr.operands:
            yield from phrases(operand)


def evaluate(expr: Expr, found: Mapping[str, str]) -> list[str] | None:
    """Return the evidence ("'PVDF' in title") if `expr` holds, given each phrase found and where; else None."""
    if isinstance(expr, Phrase):
        where = found.get(expr.text)
        return [where] if where else None
    if isinstance(expr, Not):
        return [] if evaluate(expr.operand, found) is None else None
    if isinstance(expr, And):
        evidence: list[str] = []
        for operand in expr.operands:
            got = evaluate(operand, found)
            if got is None:
                return None
            evidence += got
        return evidence
    for operand in expr.operands:
        got = evaluate(operand, found)
        if got is not None:
            return got
    return None
