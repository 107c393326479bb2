"""Small SQL helpers shared by the operations, the trigger and the backfill.

Django's ``quote_name`` wraps a name in double quotes but does not escape a double quote
inside it; :func:`quote_ident` does (PostgreSQL doubles it), so generated SQL is correct for
names with uppercase letters, spaces, quotes or reserved words.
"""

from __future__ import annotations

import hashlib
import re

MAX_IDENTIFIER_BYTES = 63


def quote_ident(name: str) -> str:
    """Quote one PostgreSQL identifier, doubling any double quote inside it.

    A name already in double quotes is kept as it is, as Django's ``quote_name`` does:
    that is how projects write a schema-qualified ``db_table = '"sales"."orders"'``,
    and Django created (and queries) the table under that reading."""
    if len(name) > 1 and name.startswith('"') and name.endswith('"'):
        return name
    return '"' + name.replace('"', '""') + '"'


QUALIFIED = re.compile(r'^"((?:[^"]|"")+)"\."((?:[^"]|"")+)"$')


def split_qualified(name: str) -> tuple[str | None, str]:
    """(schema, table) of a Django-style quoted ``'"sales"."orders"'``; (None, name) else."""
    match = QUALIFIED.match(name)
    if match is None:
        return None, name
    schema, table = (part.replace('""', '"') for part in match.groups())
    return schema, table


def quote_literal(value: str) -> str:
    """Quote a string literal (for DDL that cannot take parameters, e.g. COMMENT)."""
    return "'" + value.replace("'", "''") + "'"


def zdt_name(kind: str, *parts: str) -> str:
    """A deterministic ``zdt_<kind>_<hash>`` object name of at most 63 bytes, lowercase."""
    digest = hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:12]
    name = f"zdt_{kind}_{digest}"
    assert len(name.encode()) <= MAX_IDENTIFIER_BYTES
    return name
