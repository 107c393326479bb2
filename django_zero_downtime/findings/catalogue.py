"""The rule registry: every rule's code, kebab-case name, default severity and summary.

Rules are data here; the checks that produce their verdicts live in
``operation_rules.py`` (ZDT1xx), ``sql_rules.py`` (ZDT2xx) and ``transaction_rules.py``
(ZDT3xx). A check returns :class:`Violation` objects (code, message, hint); the engine turns
them into :class:`~django_zero_downtime.findings.model.Finding` objects with the location,
after applying the ``ZDT_RULES_*`` settings and the migration's suppressions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django_zero_downtime.findings.model import Severity


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    """What the rule catches, one line (used by ``docs/rules.md`` and ``--format text``)."""


@dataclass(frozen=True)
class Violation:
    """One rule's verdict on one operation, before it gets a location and a severity."""

    code: str
    message: str
    hint: str = ""


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
]

RULES: Mapping[str, Rule] = {rule.code: rule for rule in _RULES}


def get_rule(code: str) -> Rule:
    return RULES[code]


def _matches(code: str, patterns: Iterable[str]) -> bool:
    """A code matches a pattern equal to it or a prefix of it (``ZDT2`` = every SQL rule)."""
    return any(code.startswith(pattern.upper()) for pattern in patterns)


def effective_severity(
    code: str,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    overrides: Mapping[str, str] | None = None,
) -> Severity | None:
    """The severity a rule reports with under the settings, or ``None`` when it is off."""
    select = tuple(select)
    if (select and not _matches(code, select)) or _matches(code, ignore):
        return None
    override = (overrides or {}).get(code)
    if override == "off":
        return None
    if override in ("error", "warning"):
        return override  # type: ignore[return-value]
    return RULES[code].severity


def unknown_codes(codes: Iterable[str]) -> list[str]:
    """Codes or prefixes that match no rule (typos in settings or suppressions)."""
    return sorted({c for c in codes if not any(r.startswith(c.upper()) for r in RULES)})
