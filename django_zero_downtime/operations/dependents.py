"""What a column has in the catalog, and how to rebuild it on another column.

A dual-write rename must give the new column everything the old one has: its indexes
(``_like`` pattern indexes, partial and expression ones), unique constraints, checks,
foreign keys, and the foreign keys of other tables that point at it (``to_field``).
Rather than guess from the model state, this module reads the old column's real catalog
(``pg_index``, ``pg_constraint``) and rewrites each definition PostgreSQL prints
(``pg_get_indexdef`` / ``pg_get_constraintdef``) with the column substituted token by
token (:mod:`django_zero_downtime.sql.substitute`).

Each rebuilt object (a *twin*) gets the name Django gives it for the new column when the
old one had Django's name for the old column; otherwise (an explicit ``Meta`` name) it is
built under a ``zdt_tw_`` name carrying a ``zdt:rename-to:<name>`` comment, and renamed
when the old column, and with it the old object, is gone (:func:`renames_due`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django_zero_downtime.sql.identifiers import zdt_name

RENAME_TO = "zdt:rename-to:"

_ATTNAMES = (
    "ARRAY(SELECT a.attname::text FROM unnest({keys}) WITH ORDINALITY k(n, o) "
    "JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.n ORDER BY k.o)"
)

INDEXES_SQL = f"""
SELECT ic.relname::text, pg_get_indexdef(i.indexrelid), con.contype::text,
       coalesce(con.condeferrable, false), coalesce(con.condeferred, false),
       {_ATTNAMES.format(keys="i.indkey::int2[]", rel="i.indrelid")}
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                              AND con.contype IN ('p', 'u', 'x')
 WHERE i.indrelid = to_regclass(%(table)s) AND i.indisvalid
   AND (%(attnum)s = ANY(i.indkey::int2[])
        OR EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                   AND d.objid = i.indexrelid AND d.refobjid = i.indrelid
                   AND d.refobjsubid = %(attnum)s))
 ORDER BY 1
"""

CONSTRAINTS_SQL = f"""
SELECT conname::text, contype::text, pg_get_constraintdef(oid), convalidated,
       {_ATTNAMES.format(keys="conkey", rel="conrelid")}, coalesce(confrelid::regclass::text, ''),
       {_ATTNAMES.format(keys="confkey", rel="confrelid")}
  FROM pg_constraint
 WHERE conrelid = to_regclass(%(table)s) AND contype IN ('c', 'f') AND %(attnum)s = ANY(conkey)
   AND conname NOT LIKE 'zdt\\_nn\\_%%'
 ORDER BY 1
"""

INCOMING_SQL = f"""
SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid), convalidated,
       {_ATTNAMES.format(keys="conkey", rel="conrelid")}
  FROM pg_constraint
 WHERE contype = 'f' AND confrelid = to_regclass(%(table)s) AND %(attnum)s = ANY(confkey)
 ORDER BY 1, 2
"""

ATTNUM_SQL = (
    "SELECT attnum FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s "
    "AND NOT attisdropped"
)

DEFAULT_SQL = """
SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
  JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
 WHERE d.adrelid = to_regclass(%s) AND a.attname = %s
"""

RENAMES_SQL = """
SELECT * FROM (
SELECT 'index' AS kind, c.relname::text AS name, substr(d.description, 15) AS final
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass
 WHERE i.indrelid = to_regclass(%(table)s) AND d.description LIKE 'zdt:rename-to:%%'
UNION ALL
SELECT 'constraint', con.conname::text, substr(d.description, 15) FROM pg_constraint con
  JOIN pg_description d ON d.objoid = con.oid AND d.classoid = 'pg_constraint'::regclass
 WHERE con.conrelid = to_regclass(%(table)s) AND d.description LIKE 'zdt:rename-to:%%'
) due
 WHERE name = final OR (to_regclass(quote_ident(final)) IS NULL AND NOT EXISTS (
       SELECT FROM pg_constraint o WHERE o.conrelid = to_regclass(%(table)s)
          AND o.conname = final))
 ORDER BY 1, 2
"""


@dataclass(frozen=True)
class Dependent:
    """One catalog object that names the old column.

    ``kind``: ``index`` (no constraint behind it), ``unique``, ``primary``, ``exclusion``,
    ``check``, ``fk`` (this table's foreign key) or ``incoming`` (another table's foreign
    key to the column; ``table`` is that table).
    """

    kind: str
    table: str
    name: str
    definition: str
    columns: tuple[str, ...]
    validated: bool = True
    deferrable: tuple[bool, bool] = (False, False)
    referenced: tuple[str, tuple[str, ...]] = ("", ())


INDEX_KINDS = {None: "index", "u": "unique", "p": "primary", "x": "exclusion"}


def attnum(cursor: Any, table: str, column: str) -> int | None:
    cursor.execute(ATTNUM_SQL, [quote(table), column])
    row = cursor.fetchone()
    return int(row[0]) if row else None


def quote(table: str) -> str:
    """``to_regclass`` argument for a table name as Django holds it (unqualified)."""
    from django_zero_downtime.sql.identifiers import quote_ident

    return quote_ident(table)


def read_dependents(cursor: Any, table: str, column: str) -> list[Dependent]:
    """Every index and constraint naming ``table.column``, and incoming foreign keys."""
    number = attnum(cursor, table, column)
    if number is None:
        return []
    args = {"table": quote(table), "attnum": number}
    cursor.execute(INDEXES_SQL, args)
    found = [
        Dependent(INDEX_KINDS[kind], table, name, sql, tuple(c or "" for c in cols), True, (d, i))
        for name, sql, kind, d, i, cols in cursor.fetchall()
    ]
    cursor.execute(CONSTRAINTS_SQL, args)
    for name, kind, sql, valid, cols, ref_table, ref_cols in cursor.fetchall():
        kind = "check" if kind == "c" else "fk"
        found.append(
            Dependent(
                kind,
                table,
                name,
                sql,
                tuple(cols),
                valid,
                referenced=(ref_table, tuple(ref_cols or ())),
            )
        )
    cursor.execute(INCOMING_SQL, args)
    for child, name, sql, valid, cols in cursor.fetchall():
        found.append(
            Dependent(
                "incoming", child, name, sql, tuple(cols), valid, referenced=(table, (column,))
            )
        )
    return found


def column_default(cursor: Any, table: str, column: str) -> str | None:
    """The default expression of ``table.column`` as PostgreSQL prints it, or None."""
    cursor.execute(DEFAULT_SQL, [quote(table), column])
    row = cursor.fetchone()
    return str(row[0]) if row else None


def renames_due(cursor: Any, table: str) -> list[tuple[str, str, str]]:
    """(``index``/``constraint``, twin name, final name) of twins whose final name is
    free now (the old object is gone; another rename's may still hold its name)."""
    cursor.execute(RENAMES_SQL, {"table": quote(table)})
    return [(kind, name, final) for kind, name, final in cursor.fetchall()]


def django_names(schema_editor: Any, dep: Dependent) -> list[str]:
    """Names Django gives an object of this kind over ``dep.columns`` (several styles:
    the schema editor's hashed ``_create_index_name`` and PostgreSQL's own defaults)."""
    suffixes = {
        "index": ["", "_like", "_idx", "_uniq"],
        "unique": ["_uniq"],
        "check": ["_check"],
        "fk": [_fk_suffix(dep.referenced)],
        "incoming": [_fk_suffix(dep.referenced)],
    }.get(dep.kind, [])
    cols = list(dep.columns)
    names = [schema_editor._create_index_name(dep.table, cols, suffix=s) for s in suffixes]
    pg = {"unique": "key", "check": "check", "fk": "fkey", "incoming": "fkey", "index": "idx"}
    if dep.kind in pg and all(cols):
        names.append(f"{dep.table}_{'_'.join(cols)}_{pg[dep.kind]}")
    return names


def _fk_suffix(referenced: tuple[str, tuple[str, ...]]) -> str:
    table, columns = referenced
    return f"_fk_{table.split('.')[-1].strip(chr(34))}_{columns[0] if columns else ''}"


def renamed(dep: Dependent, old: str, new: str) -> Dependent:
    """``dep`` as it would be over the new column (its columns list, for naming)."""
    if dep.kind == "incoming":
        ref_table, ref_cols = dep.referenced
        ref = (ref_table, tuple(new if c == old else c for c in ref_cols))
        return Dependent(dep.kind, dep.table, dep.name, dep.definition, dep.columns, referenced=ref)
    cols = tuple(new if c == old else c for c in dep.columns)
    return Dependent(dep.kind, dep.table, dep.name, dep.definition, cols, referenced=dep.referenced)


def twin_name(
    schema_editor: Any, dep: Dependent, old: str, new: str, mapping: dict[str, str]
) -> tuple[str, str]:
    """(name to build the twin under, name it must end with)."""
    target = mapping.get(dep.name)
    if target is None:
        olds, news = (
            django_names(schema_editor, dep),
            django_names(schema_editor, renamed(dep, old, new)),
        )
        target = next((n for o, n in zip(olds, news, strict=True) if o == dep.name), dep.name)
    if target != dep.name:
        return target, target
    return zdt_name("tw", dep.table, dep.name), target
