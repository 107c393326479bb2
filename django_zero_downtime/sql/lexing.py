"""Low-level SQL text helpers under the statement classifier (:mod:`.classify`).

Pure functions, no database: split SQL into statements with sqlparse's lexer (comments,
string and dollar-quoted literals are tokens of their own, so a ``;`` or a keyword inside
them never counts), unquote identifiers, split comma lists at parenthesis depth 0. What a
statement does is :mod:`.classify`'s to say, on top of these.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlparse import engine
from sqlparse import tokens as T
from sqlparse.sql import Token

IDENT = r'(?:"(?:[^"]|"")+"|[\w$]+)'
"""One identifier: double-quoted (``""`` is an embedded quote) or bare."""
QUALIFIED = rf"{IDENT}(?:\.{IDENT})?"
"""An identifier, optionally schema-qualified."""

_Item = TypeVar("_Item")


@dataclass(frozen=True)
class Statement:
    """One statement of a SQL text: its source (stripped) and its lexer tokens."""

    sql: str
    tokens: list[Token]
    """Leaf tokens without comments (whitespace kept)."""


def split_statements(sql: str) -> list[Statement]:
    """The statements of ``sql``; those holding only comments, spaces or ``;`` are skipped."""
    out = []
    # The plain lexer, without grouping: no token limit (sqlparse.parse refuses statements
    # over 10,000 tokens, e.g. a RunSQL data load) and several times faster.
    for statement in engine.FilterStack().run(sql):
        tokens = [t for t in statement.flatten() if t.ttype not in T.Comment]
        if any(not t.is_whitespace and t.value != ";" for t in tokens):
            out.append(Statement(str(statement).strip(), tokens))
    return out


def is_literal(token: Token) -> bool:
    """A string or dollar-quoted literal (a quoted identifier is not a literal)."""
    return token.ttype in T.String.Single or token.ttype is T.Literal


def clean_text(tokens: Sequence[Token]) -> str:
    """The statement as one line: literals blanked to ``''``, whitespace collapsed, no ``;``."""
    parts = []
    for token in tokens:
        if is_literal(token):
            parts.append("''")
        else:
            parts.append(" " if token.is_whitespace else token.value)
    return " ".join("".join(parts).split()).rstrip(";").strip()


def unquote_identifier(name: str) -> str:
    """``"Foo""s"`` -> ``Foo"s``; an unquoted identifier folds to lower case."""
    if len(name) > 1 and name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name.lower()


def unqualified_name(name: str) -> str:
    """The last part of a (schema-qualified) name, unquoted: ``s."Foo"`` -> ``Foo``."""
    return unquote_identifier(re.findall(IDENT, name)[-1])


def split_top_level(items: Sequence[_Item], text: Callable[[_Item], str]) -> list[list[_Item]]:
    """Split ``items`` at the ``,`` items outside parentheses; empty parts are dropped."""
    parts: list[list[_Item]] = [[]]
    depth = 0
    for item in items:
        value = text(item)
        depth += {"(": 1, ")": -1}.get(value, 0)
        if value == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(item)
    return [part for part in parts if part]


_ATOM = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|.', re.DOTALL)


def split_commas(text: str) -> list[str]:
    """Split ``text`` on the commas outside parentheses and quotes; parts are stripped."""
    parts = split_top_level(_ATOM.findall(text), str)
    return [s for s in ("".join(part).strip() for part in parts) if s]
