"""Multi-column indexes and unique constraints that include a retyped column.

The expand builds each one again over the shadow column (``CREATE [UNIQUE] INDEX
CONCURRENTLY``, the column substituted in its definition, partial and expression indexes
included); the swap, inside the same ``DO`` block as the columns, gives it the old one's
place: an index takes the old name (the old one renamed away, dropped with the old column),
a unique constraint is dropped and re-created ``UNIQUE USING INDEX`` under its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django_zero_downtime.operations import indexing, twins
from django_zero_downtime.operations.dependents import Dependent
from django_zero_downtime.operations.indexing import IndexShape
from django_zero_downtime.sql.identifiers import quote_ident, zdt_name
from django_zero_downtime.sql.substitute import substitute_in_index

if TYPE_CHECKING:
    from django_zero_downtime.operations.retype import Target


@dataclass(frozen=True)
class Composite:
    """One multi-column index (or unique constraint) of the column, and its shadow twin."""

    dep: Dependent
    name: str

    @property
    def unique(self) -> bool:
        return self.dep.kind == "unique" or " UNIQUE INDEX " in self.dep.definition


def composites(schema_editor: Any, target: Target) -> list[Composite]:
    """The column's indexes and unique constraints over more than one column."""
    found = twins.dependents_of(schema_editor, target.table, target.column)
    return [
        Composite(dep, zdt_name("rtm", target.table, dep.name))
        for dep in found
        if dep.kind in ("index", "unique") and len(dep.columns) > 1
    ]


def build(schema_editor: Any, target: Target) -> None:
    """Each composite again over the shadow column, concurrently (adopted when valid)."""
    qt = quote_ident(target.table)
    for item in composites(schema_editor, target):
        tail = substitute_in_index(item.dep.definition, target.column, target.shadow)
        kind = "UNIQUE INDEX" if item.unique else "INDEX"
        sql = f"CREATE {kind} CONCURRENTLY {quote_ident(item.name)} ON {qt} {tail}"
        columns = tuple(target.shadow if c == target.column else c for c in item.dep.columns)
        shape = IndexShape(item.unique, columns if all(columns) else None, " WHERE " in tail)
        indexing.build_index(schema_editor, item.name, sql, shape)


def swap_sql(items: list[Composite], table: str) -> str:
    """PL/pgSQL for the swap's ``DO`` block: each shadow twin takes the old one's place."""
    qt, out = quote_ident(table), []
    for item in items:
        old, new = quote_ident(item.dep.name), quote_ident(item.name)
        if item.dep.kind == "unique":
            deferrable, deferred = item.dep.deferrable
            when = (" DEFERRABLE" if deferrable else "") + (
                " INITIALLY DEFERRED" if deferred else ""
            )
            out.append(f"ALTER TABLE {qt} DROP CONSTRAINT {old};")
            out.append(f"ALTER TABLE {qt} ADD CONSTRAINT {old} UNIQUE USING INDEX {new}{when};")
        else:
            out.append(
                f"ALTER INDEX {old} RENAME TO {quote_ident(zdt_name('rtold', item.dep.name))};"
            )
            out.append(f"ALTER INDEX {new} RENAME TO {old};")
    return "".join(f"\n  {line}" for line in out)
