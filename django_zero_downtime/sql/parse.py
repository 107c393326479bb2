"""Statements as word lists: the token layer under :mod:`.classify`.

sqlparse's lexer (via :func:`lexing.split_statements`) does the hard part (comments, quoted
identifiers, string and dollar-quoted literals); here every token becomes a :class:`Tok`
whose ``up`` is the upper-cased word for keywords and bare names, so the handlers match
words without caring which ones sqlparse calls keywords.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlparse import tokens as T
from sqlparse.sql import Token

from django_zero_downtime.sql.identifiers import quote_ident
from django_zero_downtime.sql.lexing import (
    clean_text,
    is_literal,
    split_statements,
    split_top_level,
    unquote_identifier,
)


@dataclass(frozen=True)
class Tok:
    kind: str
    """``word`` (keyword or bare name), ``quoted`` (identifier), ``punct``, ``lit``, ``other``."""
    value: str
    """Source text (a word's original spelling; a quoted identifier unquoted)."""

    @property
    def up(self) -> str:
        return self.value.upper() if self.kind == "word" else ""

    @property
    def ident(self) -> str:
        """As an identifier: bare words fold to lower case."""
        return self.value.lower() if self.kind == "word" else self.value


@dataclass(frozen=True)
class Parsed:
    sql: str
    text: str
    toks: tuple[Tok, ...]

    @property
    def words(self) -> list[str]:
        return [t.up for t in self.toks]


def statements(sql: str) -> list[Parsed]:
    return [
        Parsed(s.sql, clean_text(s.tokens), tuple(_toks(s.tokens))) for s in split_statements(sql)
    ]


def _toks(leaves: Sequence[Token]) -> list[Tok]:
    out: list[Tok] = []
    for token in leaves:
        if token.is_whitespace or token.value == ";":
            continue
        if is_literal(token):
            out.append(Tok("lit", token.value))
        elif token.ttype == T.Literal.String.Symbol or token.value.startswith('"'):
            out.append(Tok("quoted", unquote_identifier(token.value)))
        elif token.ttype in T.Keyword or token.ttype in T.Name:
            out += [Tok("word", w) for w in token.value.split()]
        elif token.ttype in T.Punctuation:
            out.append(Tok("punct", token.value))
        else:
            out.append(Tok("other", token.value))
    return out


def text(toks: Sequence[Tok]) -> str:
    """Tokens back to one line of SQL (literals blanked to ``''``)."""
    parts = []
    for tok in toks:
        value = "''" if tok.kind == "lit" else tok.value
        parts.append(f'"{value}"' if tok.kind == "quoted" else value)
    out = " ".join(parts)
    for before, after in ((" ( ", "("), (" )", ")"), ("( ", "("), (" , ", ", "), (" . ", ".")):
        out = out.replace(before, after)
    return out.replace(" :: ", "::")


def is_name(tok: Tok) -> bool:
    return tok.kind in ("word", "quoted")


NAME_PREFIXES = frozenset({"IF", "NOT", "EXISTS", "ONLY", "CONCURRENTLY", "TABLE"})


def qualified_name(toks: Sequence[Tok], start: int, skip: bool = True) -> tuple[str | None, int]:
    """The (possibly schema-qualified) name at ``start`` (last part) and the index after it."""
    i = start
    while skip and i < len(toks) and toks[i].up in NAME_PREFIXES:
        i += 1
    if i >= len(toks) or not is_name(toks[i]):
        return None, i
    name, i = toks[i].ident, i + 1
    while i + 1 < len(toks) and toks[i].value == "." and is_name(toks[i + 1]):
        name, i = toks[i + 1].ident, i + 2
    if i < len(toks) and toks[i].value == "*":
        i += 1
    return name, i


def split_commas(toks: Sequence[Tok]) -> list[list[Tok]]:
    return split_top_level(toks, lambda t: t.value if t.kind == "punct" else "")


def find(words: Sequence[str], *seq: str, start: int = 0) -> int:
    """Index of the word sequence ``seq`` in ``words`` (at depth-agnostic positions), or -1."""
    n = len(seq)
    for i in range(start, len(words) - n + 1):
        if tuple(words[i : i + n]) == seq:
            return i
    return -1


def has(words: Sequence[str], *seq: str) -> bool:
    return find(words, *seq) >= 0


def paren_group(toks: Sequence[Tok], start: int) -> tuple[list[Tok], int]:
    """The tokens inside the parentheses opening at ``start`` and the index after ``)``."""
    depth, i = 0, start
    while i < len(toks):
        depth += {"(": 1, ")": -1}.get(toks[i].value if toks[i].kind == "punct" else "", 0)
        if depth == 0:
            return list(toks[start + 1 : i]), i + 1
        i += 1
    return list(toks[start + 1 :]), len(toks)


def top_level(toks: Sequence[Tok]) -> list[str]:
    """The words of ``toks`` outside parentheses (inner ones blanked to ``""``)."""
    out, depth = [], 0
    for tok in toks:
        if tok.kind == "punct" and tok.value in "()":
            depth += 1 if tok.value == "(" else -1
            out.append("")
        else:
            out.append(tok.up if depth == 0 else "")
    return out


RELATION_BEFORE = frozenset({"TABLE", "ON", "ONLY", "EXISTS", "INTO", "UPDATE", "FROM", "JOIN"})


def relation_of(sql: str, table: str) -> str | None:
    """The schema-qualified name ``sql`` gives ``table`` (its first ``schema.table`` where
    a table is named), quoted, e.g. ``"sales"."orders"``; None when it names ``table``
    unqualified only. ``Impact.table`` keeps the last part; a size or type lookup needs
    the schema too."""
    for statement in statements(sql):
        toks = statement.toks
        for i in range(1, len(toks) - 2):
            schema, dot, name = toks[i : i + 3]
            if toks[i - 1].up not in RELATION_BEFORE or dot.value != ".":
                continue
            if is_name(schema) and is_name(name) and name.ident == table:
                return f"{quote_ident(schema.ident)}.{quote_ident(name.ident)}"
    return None
