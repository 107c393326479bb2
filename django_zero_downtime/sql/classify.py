"""THE classification of a SQL statement: what it locks, on which tables, what it costs, and
what it changes for the previous release's reads and writes (docs/postgres-facts.md).

Pure, no database. :func:`classify_sql` splits SQL into statements and returns one
:class:`Impact` per statement, with one :class:`Action` per ``ALTER TABLE`` clause. What
earlier statements established (new tables and columns, validated ``CHECK (c IS NOT NULL)``,
column types, the target PostgreSQL version) comes from a
:class:`~django_zero_downtime.sql.state.Schema`, which the caller moves forward with
:meth:`Schema.observe`. Used by the lint SQL rules, the runner's rules of engagement and
``--plan``. Anything it does not know gets lock ``unknown`` and is never silently harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django_zero_downtime.sql import parse
from django_zero_downtime.sql.state import Schema

LOCKS = (
    "NONE",
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)
STRONG_LOCKS = frozenset(LOCKS[LOCKS.index("SHARE") :])
"""Locks that block writes (SHARE and stronger): a scan under one of them blocks traffic."""
AE, SUE, SRE = "ACCESS EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE ROW EXCLUSIVE"


def lock_rank(lock: str) -> int:
    return LOCKS.index(lock) if lock in LOCKS else len(LOCKS)


@dataclass(frozen=True)
class Action:
    """One clause of a statement (an ``ALTER TABLE`` action, or the whole statement)."""

    kind: str
    """e.g. ``ADD COLUMN``, ``ALTER COLUMN TYPE``, ``ADD CONSTRAINT``, ``CREATE INDEX``."""
    lock: str = AE
    column: str | None = None
    name: str | None = None
    """Constraint or index name; the new name of a rename."""
    constraint: str | None = None
    """CHECK, FOREIGN KEY, UNIQUE, PRIMARY KEY, EXCLUDE or NOT NULL."""
    text: str = ""
    """The clause as written (literals blanked, spaces collapsed)."""
    new_type: str | None = None
    old_type: str | None = None
    default: str | None = None
    """Default expression of ADD COLUMN / SET DEFAULT (literals blanked)."""
    not_null: bool = False
    not_valid: bool = False
    using_index: bool = False
    references: str | None = None
    rewrites: bool = False
    scans: bool = False
    """Reads the whole table under :attr:`lock` (verification or validation)."""
    builds_index: bool = False
    validates: bool = False
    """A constraint is checked against every row (part of :attr:`scans`)."""
    breaks: str = ""
    """What stops working for the previous release (empty: nothing)."""


@dataclass(frozen=True)
class Impact:
    """The classification of one statement."""

    sql: str
    kind: str
    """Short name of the statement, e.g. ``ALTER TABLE ADD COLUMN``."""
    table: str | None = None
    lock: str = "unknown"
    """The strongest lock on :attr:`table` (a name from :data:`LOCKS`) or ``unknown``."""
    rewrites: bool = False
    scans: bool = False
    """Reads the whole table while holding :attr:`lock`."""
    builds_index: bool = False
    validates: bool = False
    drops: bool = False
    adds: bool = False
    concurrent: bool = False
    """Must run outside a transaction (CONCURRENTLY, VACUUM)."""
    creates_table: bool = False
    new_table: bool = False
    """:attr:`table` was created earlier in the plan: no live traffic uses it yet."""
    dml: bool = False
    index: str | None = None
    """Name of the index a CREATE/DROP INDEX builds or drops (to find an INVALID leftover)."""
    type_changes: tuple[tuple[str, str], ...] = ()
    """(column, new type) of ALTER COLUMN TYPE."""
    other_locks: tuple[tuple[str, str], ...] = ()
    """(table, lock) taken on other tables, e.g. the table a foreign key references."""
    actions: tuple[Action, ...] = ()
    breaks: tuple[str, ...] = ()
    text: str = ""
    """The statement as one line, literals blanked (what the SQL rules quote)."""

    @property
    def strong_scan(self) -> bool:
        return self.scans and self.lock in STRONG_LOCKS

    @property
    def blocking_build(self) -> bool:
        return self.builds_index and self.lock in STRONG_LOCKS

    @property
    def costly(self) -> bool:
        """Work proportional to the table's size while writes are blocked."""
        return self.rewrites or self.strong_scan or self.blocking_build

    @property
    def judged(self) -> bool:
        """True when the table's size matters (ZDT401): a costly step, a drop or an add."""
        return self.costly or self.drops or self.adds


def classify_sql(sql: str, schema: Schema | None = None) -> list[Impact]:
    """Classify every statement in ``sql``; ``schema`` (moved forward) knows the earlier ones."""
    schema = schema if schema is not None else Schema()
    impacts = []
    for statement in parse.statements(sql):
        impact = classify_statement(statement, schema)
        schema.observe(impact)
        impacts.append(impact)
    return impacts


def classify_statement(statement: parse.Parsed, schema: Schema) -> Impact:
    from django_zero_downtime.sql import statements as handlers

    impact = handlers.classify(statement, schema)
    if impact.table and schema.is_new_table(impact.table):
        impact = replace(impact, new_table=True, breaks=())  # no release uses it yet
    return impact


def merge(base: Impact, actions: list[Action]) -> Impact:
    """One statement with several actions: the strongest lock and every cost."""
    if not actions:
        return base
    lock = max((a.lock for a in actions), key=lock_rank)
    kinds = sorted({a.kind for a in actions})
    return replace(
        base,
        kind=" + ".join(f"{base.kind} {k}" for k in kinds),
        lock=lock,
        rewrites=any(a.rewrites for a in actions),
        scans=any(a.scans for a in actions),
        builds_index=any(a.builds_index for a in actions),
        validates=any(a.validates for a in actions),
        drops=any(a.kind == "DROP COLUMN" for a in actions),
        adds=any(a.kind == "ADD COLUMN" for a in actions),
        type_changes=tuple((a.column or "", a.new_type or "") for a in actions if a.new_type),
        other_locks=tuple((a.references, SRE) for a in actions if a.references),
        actions=tuple(actions),
        breaks=tuple(a.breaks for a in actions if a.breaks),
    )
