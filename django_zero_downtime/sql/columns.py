"""``ADD COLUMN``: what a column definition costs on a table with rows (docs/postgres-facts.md).

A constant or stable default is stored once in the catalog (PostgreSQL 11+); a volatile one
(``random()``, ``gen_random_uuid()``, ``clock_timestamp()``, ``nextval``), serial, identity
and stored generated columns are computed for every row: a rewrite. An inline ``CHECK``
scans the table and an inline ``UNIQUE``/``PRIMARY KEY`` builds its index, both under
ACCESS EXCLUSIVE. An inline ``REFERENCES`` on a column with no default skips validation
(every row is NULL). On PostgreSQL 18 a generated column without ``STORED`` is virtual.
"""

from __future__ import annotations

import re
from dataclasses import replace

from django_zero_downtime.sql import parse
from django_zero_downtime.sql.classify import AE, Action
from django_zero_downtime.sql.parse import Tok
from django_zero_downtime.sql.state import Schema
from django_zero_downtime.sql.volatility import (  # noqa: F401  (their old home)
    VOLATILE_DEFAULT,
    function_volatile,
    volatile_default,
)

_SERIAL = re.compile(r"^(?:small|big)?serial[248]?$", re.IGNORECASE)
_DEFINITION_WORDS = {
    "CONSTRAINT", "NOT", "NULL", "DEFAULT", "CHECK", "UNIQUE", "PRIMARY", "REFERENCES",
    "GENERATED", "COLLATE", "DEFERRABLE", "INITIALLY", "COMPRESSION", "STORAGE",
}  # fmt: skip
BREAKS_NOT_NULL = "a NOT NULL column without a default: the previous release's INSERTs omit it"


def add_column(table: str, toks: list[Tok], start: int, schema: Schema, text: str) -> Action:
    column, i = parse.qualified_name(toks, start)
    rest = toks[i:]
    words = parse.top_level(rest)
    end = next((k for k, w in enumerate(words) if w in _DEFINITION_WORDS), len(rest))
    sql_type = parse.text(rest[:end])
    default = _clause(rest, words, "DEFAULT")
    not_null = parse.has(words, "NOT", "NULL") or "PRIMARY" in words
    action = Action(
        "ADD COLUMN", lock=AE, column=column, text=text, new_type=sql_type, default=default,
        not_null=not_null,
    )  # fmt: skip
    return _costs(action, rest, words, schema)


def _clause(toks: list[Tok], words: list[str], keyword: str) -> str | None:
    if keyword not in words:
        return None
    at = words.index(keyword) + 1
    end = next((k for k in range(at, len(words)) if words[k] in _DEFINITION_WORDS), len(toks))
    return parse.text(toks[at:end])


def _costs(action: Action, toks: list[Tok], words: list[str], schema: Schema) -> Action:
    generated = "GENERATED" in words
    stored = "STORED" in words or (generated and "IDENTITY" not in words and schema.version < 18)
    rewrites = bool(
        _SERIAL.match(action.new_type or "")
        or (generated and ("IDENTITY" in words or stored))
        or (action.default and volatile_default(action.default))
    )
    has_value = action.default is not None and action.default.upper() != "NULL"
    filled = has_value or rewrites
    references = None
    if "REFERENCES" in words:
        references, _ = parse.qualified_name(toks, words.index("REFERENCES") + 1)
    breaks = BREAKS_NOT_NULL if action.not_null and not filled and "PRIMARY" not in words else ""
    return replace(
        action,
        rewrites=rewrites,
        scans=not rewrites and ("CHECK" in words or bool(breaks) or bool(references and filled)),
        validates="CHECK" in words or (references is not None and filled),
        builds_index="UNIQUE" in words or "PRIMARY" in words,
        references=references,
        breaks=breaks,
    )


_MAY_WIDEN = re.compile(r"(?:text|character varying|varchar|numeric|decimal)(?:\([\d,\s]*\))?")


def may_widen(new_type: str) -> bool:
    """True when a change *to* ``new_type`` can be a rewrite-free widening (old type unknown)."""
    return bool(_MAY_WIDEN.fullmatch(" ".join(new_type.lower().replace('"', "").split())))
