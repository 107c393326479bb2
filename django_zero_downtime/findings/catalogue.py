"""The rule catalogue: every rule of every family, one row each.

A row is the code, the kebab-case name (also the anchor of its docs entry, on
:attr:`Rule.page`), the default severity, a one-line summary and a hint template. Families:
ZDT1xx operation rules, ZDT2xx SQL rules, ZDT3xx transaction rules (the checker, ``lint/``);
ZDT40x rules of engagement (the runner), ZDT45x rehearsal, ZDT5xx blue/green compatibility.
A family's checks return :class:`Violation` verdicts; one factory
(:func:`django_zero_downtime.findings.factory.make_finding`) turns them into findings, and
one policy (:mod:`django_zero_downtime.findings.policy`) applies the ``ZDT_RULES_*`` settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django_zero_downtime.findings.model import Severity

PAGES = {"ZDT1": "rules.md", "ZDT2": "rules.md", "ZDT3": "rules.md", "ZDT40": "commands.md"}
"""Docs page per code prefix (longest prefix wins); everything else: compatibility.md."""
CHECKER_FAMILIES = ("ZDT1", "ZDT2", "ZDT3")
"""The families the static checker judges (a suppression of another code is not "unused")."""


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    """What the rule catches, one line (used by ``docs/rules.md`` and SARIF)."""
    hint: str = ""
    """Template of the safe alternative, ``str.format``-ed with the verdict's ``params``; the
    checker's rules write their hints with the user's names instead (``lint/rules/hints.py``)."""
    configurable: bool = True
    """False for refusals the product enforces whatever the settings (the operation itself
    refuses): ``ZDT_RULES_*`` cannot switch them off or soften them."""

    @property
    def page(self) -> str:
        """The docs page whose heading ``{#name}`` documents the rule."""
        prefixes = sorted((p for p in PAGES if self.code.startswith(p)), key=len)
        return PAGES[prefixes[-1]] if prefixes else "compatibility.md"

    @property
    def checked_statically(self) -> bool:
        return self.code.startswith(CHECKER_FAMILIES)


@dataclass(frozen=True)
class Violation:
    """One rule's verdict on one operation, before it gets a location and a severity."""

    code: str
    message: str
    hint: str = ""
    """The safe alternative; empty = the catalogue's hint template for ``code``."""
    params: Mapping[str, str] = field(default_factory=dict)
    """Values for the catalogue's hint template."""


_RULES = [
    # ZDT1xx: operation rules (judged against the project state before the operation).
    Rule("ZDT101", "drop-column", "error", "A column is dropped while the live version uses it."),
    Rule("ZDT102", "rename-column", "error", "A column is renamed under the live version."),
    Rule("ZDT103", "drop-table", "error", "A table is dropped while the live version uses it."),
    Rule("ZDT104", "rename-table", "error", "A table is renamed under the live version."),
    Rule("ZDT105", "alter-column-type", "error", "A column type change rewrites the table."),
    Rule("ZDT106", "set-not-null", "error", "SET NOT NULL scans the table under ACCESS EXCLUSIVE."),
    Rule(
        "ZDT107",
        "add-not-null-column",
        "error",
        "A NOT NULL column without a database default breaks inserts of the live version.",
    ),
    Rule("ZDT108", "add-column-rewrite", "error", "Adding this kind of column rewrites the table."),
    Rule("ZDT109", "create-index", "error", "An index is built while writes are blocked."),
    Rule(
        "ZDT110",
        "add-unique-constraint",
        "error",
        "A unique/primary-key/exclusion constraint builds its index under lock.",
    ),
    Rule("ZDT111", "add-foreign-key", "error", "A foreign key is validated under lock."),
    Rule("ZDT112", "add-check-constraint", "error", "A CHECK constraint is validated under lock."),
    Rule("ZDT113", "drop-index", "warning", "DROP INDEX takes ACCESS EXCLUSIVE on the table."),
    Rule(
        "ZDT114",
        "drop-database-default",
        "error",
        "Dropping a NOT NULL column's database default or identity breaks the previous "
        "release's inserts.",
    ),
    Rule("ZDT190", "unknown-operation", "warning", "An operation the checker does not know."),
    Rule("ZDT191", "suppression-without-reason", "error", "A suppression gives no reason."),
    Rule("ZDT192", "unused-suppression", "warning", "A suppression that suppresses nothing."),
    # ZDT2xx: SQL rules (RunSQL and the SQL of operations the operation rules do not know).
    Rule("ZDT201", "sql-drop-column", "error", "ALTER TABLE ... DROP COLUMN in SQL."),
    Rule("ZDT202", "sql-rename-column", "error", "ALTER TABLE ... RENAME COLUMN in SQL."),
    Rule("ZDT203", "sql-drop-table", "error", "DROP TABLE in SQL."),
    Rule("ZDT204", "sql-rename-table", "error", "ALTER TABLE ... RENAME TO in SQL."),
    Rule("ZDT205", "sql-alter-column-type", "error", "ALTER COLUMN ... TYPE that may rewrite."),
    Rule("ZDT206", "sql-set-not-null", "error", "ALTER COLUMN ... SET NOT NULL in SQL."),
    Rule("ZDT207", "sql-add-not-null-column", "error", "ADD COLUMN ... NOT NULL without DEFAULT."),
    Rule("ZDT208", "sql-add-column-rewrite", "error", "ADD COLUMN that rewrites the table."),
    Rule("ZDT209", "sql-create-index", "error", "CREATE INDEX without CONCURRENTLY."),
    Rule(
        "ZDT210", "sql-add-constraint", "error", "ADD CONSTRAINT validated or indexed under lock."
    ),
    Rule("ZDT211", "sql-drop-index", "warning", "DROP INDEX without CONCURRENTLY."),
    Rule("ZDT212", "lock-table", "error", "An explicit LOCK TABLE."),
    Rule("ZDT213", "table-rewrite", "error", "VACUUM FULL, CLUSTER, plain REINDEX or a rewrite."),
    Rule("ZDT214", "drop-database", "error", "DROP DATABASE."),
    Rule(
        "ZDT215",
        "replace-stored-procedure",
        "error",
        "A stored function/procedure is renamed, replaced or dropped.",
    ),
    Rule(
        "ZDT216",
        "multiple-alter-table",
        "warning",
        "Three or more separate ALTER TABLE statements on one table in one migration.",
    ),
    Rule(
        "ZDT217",
        "sql-drop-default",
        "error",
        "DROP DEFAULT / DROP IDENTITY on a NOT NULL column in SQL (old inserts fail).",
    ),
    # ZDT3xx: transaction and data-migration rules.
    Rule(
        "ZDT301",
        "data-migration-with-schema-changes",
        "error",
        "A data migration shares one transaction with schema changes.",
    ),
    Rule(
        "ZDT302",
        "concurrent-in-atomic",
        "error",
        "A CONCURRENTLY operation in an atomic migration (PostgreSQL refuses it).",
    ),
    Rule(
        "ZDT303",
        "needs-atomic-false",
        "error",
        "DualWriteRename, CompleteDualWriteRename or BatchedBackfill in an atomic migration.",
    ),
    Rule(
        "ZDT304",
        "validate-in-same-transaction",
        "error",
        "A NOT VALID constraint is validated in the transaction that added it.",
    ),
    # ZDT40x: rules of engagement against the live database (safemigrate, runner/).
    Rule(
        "ZDT401",
        "large-table",
        "error",
        "A step rewrites a table, scans it or builds an index under a write-blocking lock, on a "
        "table over the size limit or for longer than the time budget.",
        "{advice} Or run it in a maintenance window and approve it on the migration class: "
        'zero_downtime = {{"ZDT401": "<reason>"}}',
    ),
    Rule(
        "ZDT402",
        "backwards-migration",
        "error",
        "The target would unapply an applied migration.",
        "Migrations are never rolled back: fix forward with a new migration.",
        configurable=False,
    ),
    Rule(
        "ZDT403",
        "deprecation-cycles",
        "error",
        "A deprecated column or table is dropped before ZDT_DEPRECATION_CYCLES deploy cycles.",
        "Wait for more deploy cycles, then run again.",
        configurable=False,
    ),
    # ZDT45x: rehearsal on a copy of the real database (safemigrate --rehearse, rehearsal/).
    Rule(
        "ZDT450",
        "rehearsal-over-budget",
        "error",
        "A migration took longer than ZDT_REHEARSAL_BUDGET seconds in rehearsal.",
        "Split the migration, make the change without a rewrite or scan under lock (see the "
        "operations docs), or schedule a maintenance window.",
    ),
    Rule(
        "ZDT451",
        "rehearsal-rewrite-under-lock",
        "error",
        "A statement rewrote a table while holding ACCESS EXCLUSIVE on it.",
        "Add a new column, backfill it in batches and switch to it; or approve with "
        'zero_downtime = {{"ZDT451": "reason"}} if the table stays small.',
    ),
    Rule(
        "ZDT452",
        "rehearsal-failed",
        "error",
        "A migration failed on the real data.",
        "Fix the migration or the data it trips over; the rehearsal rolled everything back.",
    ),
    # ZDT5xx: blue/green compatibility of the previous release's models (bluegreen/).
    Rule(
        "ZDT501",
        "table-removed",
        "error",
        "A table the previous release uses no longer exists.",
        "Keep the table while any live release uses it: deprecate the model (DeprecateTable), "
        "drop it after ZDT_DEPRECATION_CYCLES deploys (DropDeprecatedTable); to rename, create "
        "the new table and dual-write.",
    ),
    Rule(
        "ZDT502",
        "column-removed",
        "error",
        "A column the previous release uses no longer exists.",
        "Keep the column while a live release uses it: take the field out of the state with "
        "DeprecateColumn and drop it cycles later with DropDeprecatedColumn; rename with "
        "DualWriteRename.",
    ),
    Rule(
        "ZDT503",
        "column-type-changed",
        "error",
        "A column the previous release uses changes to an incompatible type.",
        "Only widen in place (bigger varchar, varchar to text, int to bigint). Otherwise add a "
        "new column, dual-write and backfill it, and switch reads in a later release.",
    ),
    Rule(
        "ZDT504",
        "new-column-required",
        "error",
        "A new NOT NULL column without a database default breaks the previous release's inserts.",
        "Make the new column nullable, give it a db_default, or use AddColumnWithDefault.",
    ),
    Rule(
        "ZDT505",
        "column-made-required",
        "error",
        "A column becomes NOT NULL while the previous release may write NULL.",
        "Ship code that always writes a value first; make the column NOT NULL a release "
        "later (add a CHECK ... NOT VALID, validate it, then SET NOT NULL), or add a "
        "db_default.",
    ),
    Rule(
        "ZDT506",
        "new-check-constraint",
        "error",
        "A new CHECK constraint may reject rows the previous release writes.",
        "Ship code that only writes valid rows first; add the constraint a release later "
        "(NOT VALID, then VALIDATE CONSTRAINT).",
    ),
    Rule(
        "ZDT507",
        "new-unique-constraint",
        "warning",
        "A new unique constraint may reject rows the previous release writes.",
        "Ship code that never writes duplicates first, then add the unique index a release "
        "later (CREATE UNIQUE INDEX CONCURRENTLY).",
    ),
    Rule(
        "ZDT508",
        "db-default-removed",
        "error",
        "A column loses the database default the previous release relies on.",
        "Keep the database default until no live release relies on it.",
    ),
    Rule(
        "ZDT509",
        "new-foreign-key",
        "warning",
        "A new foreign key may reject values the previous release writes.",
        "Ship code that only writes existing keys first; add the constraint a release later "
        "(NOT VALID, then VALIDATE CONSTRAINT).",
    ),
]

RULES: Mapping[str, Rule] = {rule.code: rule for rule in _RULES}


def get_rule(code: str) -> Rule:
    return RULES[code]


def matches(code: str, patterns: Iterable[str]) -> bool:
    """A code matches a pattern equal to it or a prefix of it (``ZDT2`` = every SQL rule)."""
    return any(code.startswith(pattern.upper()) for pattern in patterns)


def unknown_codes(codes: Iterable[str]) -> list[str]:
    """Codes or prefixes that match no rule (typos in settings or suppressions)."""
    return sorted({c for c in codes if not any(r.startswith(c.upper()) for r in RULES)})


def hint_for(violation: Violation) -> str:
    """The verdict's own hint, else the catalogue's template filled with its params."""
    if violation.hint:
        return violation.hint
    template = RULES[violation.code].hint
    return template.format(**violation.params) if violation.params else template.format()
