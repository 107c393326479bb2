"""Rewrite a column reference inside a definition PostgreSQL printed (pure, no database).

``pg_get_indexdef`` and ``pg_get_constraintdef`` print a column bare when its name is a
lower-case identifier that needs no quotes, and double-quoted otherwise; keywords come out
in upper case. So a token names the column exactly when it is the bare name itself or the
quoted name, and is not a function name (followed by ``(``), a qualified name's part or a
type (after ``.`` or ``::``). String literals are lexer tokens of their own and never match.
"""

from __future__ import annotations

import re

from sqlparse import engine
from sqlparse import tokens as T
from sqlparse.sql import Token

from django_zero_downtime.sql.identifiers import quote_ident
from django_zero_downtime.sql.lexing import is_literal


def tokens_of(sql: str) -> list[Token]:
    """The leaf tokens of ``sql`` (one statement or fragment), whitespace kept."""
    return [t for statement in engine.FilterStack().run(sql) for t in statement.flatten()]


def names_column(token: Token, column: str) -> bool:
    """Is ``token`` the identifier ``column`` (bare or quoted)?"""
    if is_literal(token) or token.is_whitespace:
        return False
    if token.ttype in T.String.Symbol:
        return token.value[1:-1].replace('""', '"') == column
    return token.value == column and (token.ttype in T.Name or token.ttype in T.Keyword)


def _neighbour(tokens: list[Token], index: int, step: int) -> str:
    index += step
    while 0 <= index < len(tokens) and tokens[index].is_whitespace:
        index += step
    return tokens[index].value if 0 <= index < len(tokens) else ""


def substitute_column(sql: str, old: str, new: str, start: int = 0, stop: int | None = None) -> str:
    """``sql`` with every reference to column ``old`` among tokens ``start:stop`` replaced
    by the quoted ``new``."""
    tokens = tokens_of(sql)
    stop = len(tokens) if stop is None else stop
    out = []
    for index, token in enumerate(tokens):
        if start <= index < stop and _is_reference(tokens, index, old):
            out.append(quote_ident(new))
        else:
            out.append(token.value)
    return "".join(out)


def _is_reference(tokens: list[Token], index: int, column: str) -> bool:
    if not names_column(tokens[index], column):
        return False
    return _neighbour(tokens, index, -1) not in (".", "::") and _neighbour(
        tokens, index, 1
    ) not in (
        "(",
        ".",
    )


def keyword_index(sql: str, keyword: str) -> int:
    """Index of the first top-level token that is ``keyword`` (upper case), else -1."""
    depth = 0
    for index, token in enumerate(tokens_of(sql)):
        depth += {"(": 1, ")": -1}.get(token.value, 0)
        if depth == 0 and token.ttype in T.Keyword and token.value.upper() == keyword:
            return index
    return -1


def index_tail(indexdef: str) -> str:
    """The part of a ``pg_get_indexdef`` from ``USING`` on (method, keys, predicate)."""
    at = keyword_index(indexdef, "USING")
    return "".join(t.value for t in tokens_of(indexdef)[at:])


def substitute_in_index(indexdef: str, old: str, new: str) -> str:
    """The part of a ``pg_get_indexdef`` from ``USING`` on, with ``old`` replaced."""
    return substitute_column(index_tail(indexdef), old, new)


_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")


def canonical(sql: str) -> str:
    """``sql`` for comparison only: quotes dropped from plain lower-case identifiers (which
    PostgreSQL prints bare), whitespace collapsed."""
    parts = []
    for token in tokens_of(sql):
        value = token.value
        if token.ttype in T.String.Symbol and _PLAIN.match(value[1:-1]):
            value = value[1:-1]
        parts.append(" " if token.is_whitespace else value)
    return " ".join("".join(parts).split())


def substitute_in_foreign_key(definition: str, old: str, new: str, referenced: bool) -> str:
    """A ``FOREIGN KEY (..) REFERENCES t(..)`` definition with ``old`` replaced in the
    local column list, or (``referenced``) in the referenced one only."""
    at = keyword_index(definition, "REFERENCES")
    if referenced:
        return substitute_column(definition, old, new, start=at)
    return substitute_column(definition, old, new, stop=at)
