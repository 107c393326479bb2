"""What changing a column's type costs, from PostgreSQL's own cast rules (docs/postgres-facts.md).

``ALTER COLUMN ... TYPE`` skips the table rewrite when the conversion is binary-coercible
(``pg_cast.castmethod = 'b'``, captured in :data:`BINARY_COERCIBLE`) and any length or
precision coercion only widens (the ``varchar``, ``numeric``, ``timestamp``, ``time``,
``interval`` and ``bit varying`` support functions turn a widening into a no-op). Since
PostgreSQL 12, ``timestamp`` <-> ``timestamptz`` skips it too when the session time zone is
UTC, but the column's indexes are rebuilt under the lock. A binary-coercible change to a
type with another index operator class also rebuilds the indexes.

Pure functions over type names as ``format_type`` or Django write them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALIASES = {
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "serial": "integer",
    "serial4": "integer",
    "bigserial": "bigint",
    "serial8": "bigint",
    "smallserial": "smallint",
    "serial2": "smallint",
    "varchar": "character varying",
    "char": "character",
    "bpchar": "character",
    "decimal": "numeric",
    "float8": "double precision",
    "float": "double precision",
    "float4": "real",
    "bool": "boolean",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "varbit": "bit varying",
}

BINARY_COERCIBLE = frozenset(
    {
        ("bit", "bit varying"),
        ("bit varying", "bit"),
        ("character varying", "character"),
        ("character varying", "text"),
        ("cidr", "inet"),
        ("text", "character"),
        ("text", "character varying"),
        ("xml", "character"),
        ("xml", "character varying"),
        ("xml", "text"),
        ("text", "citext"),
        ("character varying", "citext"),
        ("citext", "text"),
        ("citext", "character varying"),
    }
)
"""``pg_cast`` rows with ``castmethod = 'b'`` between user-facing types (PostgreSQL 13-18;
``citext`` from its extension script)."""

TYPMOD_WIDENING = frozenset(
    {"character varying", "numeric", "timestamp", "timestamptz", "time", "timetz", "interval"}
    | {"bit varying"}
)
"""Types whose length/precision coercion is a no-op when it only widens (support functions)."""

SAME_INDEX_CLASS = frozenset({("character varying", "text"), ("text", "character varying")})
"""Binary-coercible pairs whose indexes PostgreSQL keeps (same operator class family)."""


@dataclass(frozen=True)
class SqlType:
    name: str
    """Canonical base name (see :data:`ALIASES`), lower case, no array marker."""
    mods: tuple[int, ...] = ()
    """Length / precision / scale; empty = unconstrained."""
    array: bool = False


@dataclass(frozen=True)
class TypeChange:
    """What ``ALTER COLUMN TYPE old -> new`` does to a table with rows."""

    rewrites: bool
    """Table and indexes are rewritten under ACCESS EXCLUSIVE."""
    rebuilds_indexes: bool = False
    """No table rewrite, but the column's indexes are rebuilt under the lock."""
    old_writers_ok: bool = True
    """Every value the previous release writes still fits the new type."""
    known: bool = True
    """False when a type could not be read (then ``rewrites`` is the safe assumption)."""

    @property
    def free(self) -> bool:
        return not (self.rewrites or self.rebuilds_indexes)


REWRITE = TypeChange(rewrites=True, old_writers_ok=False)
UNKNOWN = TypeChange(rewrites=True, old_writers_ok=False, known=False)
NO_CHANGE = TypeChange(rewrites=False)

_TYPE = re.compile(r"^(?P<name>[a-z_][a-z0-9_ .]*)(?:\((?P<mods>[\d\s,]*)\))?(?P<rest>[a-z ]*)$")


def parse_type(text: str) -> SqlType | None:
    """``varchar(20)``, ``character varying(20)``, ``timestamp(3) with time zone``,
    ``numeric(10, 2)``, ``int[]`` -> :class:`SqlType`; None when it is not a type name."""
    cleaned = " ".join(text.lower().replace('"', "").split())
    array = cleaned.endswith("[]")
    cleaned = cleaned.removesuffix("[]").strip()
    match = _TYPE.match(cleaned)
    if not match:
        return None
    name = " ".join(f"{match.group('name')} {match.group('rest')}".split())
    name = re.sub(r"^pg_catalog\.|^public\.", "", name)
    name = ALIASES.get(name, name)
    mods = tuple(int(m) for m in (match.group("mods") or "").split(",") if m.strip())
    if name == "character" and not mods:
        mods = (1,)
    return SqlType(name, mods, array)


def type_change(old_text: str | None, new_text: str | None, utc: bool = True) -> TypeChange:
    """What changing a column from ``old_text`` to ``new_text`` costs (no ``USING``)."""
    old = parse_type(old_text) if old_text else None
    new = parse_type(new_text) if new_text else None
    if old is None or new is None:
        return UNKNOWN
    if old.array != new.array:
        return REWRITE
    if old.name == new.name:
        return _same_base(old, new)
    if {old.name, new.name} == {"timestamp", "timestamptz"}:
        widens = _widens(old, new)
        return TypeChange(rewrites=not (utc and widens), rebuilds_indexes=utc and widens)
    if (old.name, new.name) in BINARY_COERCIBLE and _typmod_fits(old, new):
        keeps_index = (old.name, new.name) in SAME_INDEX_CLASS or new.name == "inet"
        return TypeChange(rewrites=False, rebuilds_indexes=not keeps_index)
    return TypeChange(rewrites=True, old_writers_ok=_fits_values(old, new))


def _same_base(old: SqlType, new: SqlType) -> TypeChange:
    if old.mods == new.mods:
        return NO_CHANGE
    if old.name in TYPMOD_WIDENING and _widens(old, new):
        return NO_CHANGE
    return TypeChange(rewrites=True, old_writers_ok=_widens(old, new))


def _widens(old: SqlType, new: SqlType) -> bool:
    """The new modifiers accept every old value (numeric: same scale, more precision)."""
    if not new.mods:
        return True
    if not old.mods:
        return False
    if old.name == "numeric":
        old_scale = old.mods[1] if len(old.mods) > 1 else 0
        new_scale = new.mods[1] if len(new.mods) > 1 else 0
        return old_scale == new_scale and new.mods[0] >= old.mods[0]
    return new.mods[0] >= old.mods[0]


def _typmod_fits(old: SqlType, new: SqlType) -> bool:
    """A binary-coercible cast stays rewrite-free only when no length coercion narrows."""
    if not new.mods:
        return new.name not in ("character", "bit")
    if new.name not in TYPMOD_WIDENING:
        return False
    return bool(old.mods) and new.mods[0] >= old.mods[0]


_INTEGERS = ("smallint", "integer", "bigint")


def _fits_values(old: SqlType, new: SqlType) -> bool:
    """Whether values of ``old`` convert to ``new`` without loss (the previous release keeps
    writing old-typed values): integer widening, anything to text."""
    if old.name in _INTEGERS and new.name in _INTEGERS:
        return _INTEGERS.index(new.name) >= _INTEGERS.index(old.name)
    if new.name == "text" or (new.name == "character varying" and not new.mods):
        return True
    if old.name in _INTEGERS and new.name in ("numeric", "double precision"):
        return not new.mods
    return old.name == "character varying" and new.name == "character varying" and _widens(old, new)


FAMILIES = (
    re.compile(r"^(smallint|integer|bigint|serial|bigserial)$"),
    re.compile(r"^(varchar|character varying|text|char|character)(\(\d+\))?$"),
    re.compile(r"^(numeric|decimal)(\(\d+,\s*\d+\))?$|^(double precision|real)$"),
)


def same_family(old: str | None, new: str | None) -> bool:
    """Both types in one family, so ``old::new`` is a plain cast (pure)."""
    if old is None or new is None:
        return False
    old, new = old.lower().strip(), new.lower().strip()
    return any(family.match(old) and family.match(new) for family in FAMILIES)
