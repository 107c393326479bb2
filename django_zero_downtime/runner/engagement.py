"""Rules of engagement against the live database (ZDT4xx), judged before anything runs.

- ZDT401 ``large-table``: judged by cost. A catalog-only change (nullable ADD COLUMN, a
  constant default, DROP NOT NULL, ...) passes at any size. A step that rewrites a table,
  scans it or builds an index under a lock that blocks writes is refused when the table has
  more than ``ZDT_LARGE_TABLE_ROWS`` rows or the estimated time under the lock
  (:mod:`~django_zero_downtime.runner.cost`, from the table's real size) exceeds
  ``ZDT_REHEARSAL_BUDGET``, unless the migration (or that operation, with ``suppress``)
  approves it with a reason:
  ``zero_downtime = {"ZDT401": "approved by DBA: off-peak window"}``.
- ZDT402 ``backwards-migration``: migrations are never rolled back; fix forward.

Drops of deprecated columns and tables are gated by the deploy-cycle ledger inside the
``DropDeprecated*`` operations themselves (they raise ``RefusedByRule``).

The verdicts are pure functions; only :func:`cost.table_size` and :func:`current_type` ask
the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.db.migrations.migration import Migration
from django.db.migrations.operations import AlterField

from django_zero_downtime import conf
from django_zero_downtime.findings import locate
from django_zero_downtime.findings.approvals import read_suppressions
from django_zero_downtime.findings.catalogue import Violation, hint_for
from django_zero_downtime.findings.dangers import COVERED_BY
from django_zero_downtime.findings.factory import make_finding
from django_zero_downtime.findings.model import Finding, Severity
from django_zero_downtime.findings.policy import Policy
from django_zero_downtime.runner import cost
from django_zero_downtime.runner.cost import TableSize
from django_zero_downtime.runner.plan import PlanStep
from django_zero_downtime.sql import parse
from django_zero_downtime.sql.classify import Impact
from django_zero_downtime.sql.identifiers import quote_ident
from django_zero_downtime.sql.types import same_family, type_change

LARGE_TABLE = ("ZDT401", "large-table")
BACKWARDS = ("ZDT402", "backwards-migration")


def approval_reason(migration: Migration, rule: str, index: int | None = None) -> str | None:
    """The reason given for approving ``rule`` on ``migration`` or on its operation ``index``;
    "" when the reason is empty. A marker that is not a dict is refused (ZeroDowntimeError).
    The approval of the same danger under a static code counts (findings/dangers.py)."""
    found = read_suppressions(migration, strict=True)
    for code in (rule, *COVERED_BY.get(rule, ())):
        reason = found.reason(code, index)
        if reason is not None:
            return reason if code == rule or not reason else f"{reason} ({code})"
    return None


@dataclass(frozen=True)
class SizeLimits:
    """ZDT401's limits: rows (ZDT_LARGE_TABLE_ROWS) and seconds under the lock
    (ZDT_REHEARSAL_BUDGET)."""

    rows: int
    seconds: float


def judge_size(
    step: PlanStep,
    impact: Impact,
    size: TableSize,
    limits: SizeLimits,
    reason: str | None,
    severity: Severity = "error",
    instead: str | None = None,
) -> tuple[Finding | None, str]:
    """ZDT401 on one statement: (finding when refused, the verdict line for ``--plan``).

    A catalog-only change passes at any size; a rewrite, a scan under a write-blocking lock
    or an index build under one is refused when the table has more than ``limits.rows``
    rows or the estimated time under the lock exceeds ``limits.seconds``. ``instead``: the
    advice when the product has an operation for it (:func:`retype_advice`).
    """
    kind = cost.work(impact)
    if kind is None:
        return None, f"ZDT401 large-table ({impact.table}: catalog-only, instant at any size): ok"
    seconds = cost.estimate_seconds(kind, size)
    facts = (
        f"{impact.table}: {size.rows:,} rows ({size.how}), {size.total_bytes / cost.MB:,.0f} MB, "
        f"{kind} est. {seconds:.1f} s; limits {limits.rows:,} rows, {limits.seconds:g} s"
    )
    if size.rows <= limits.rows and seconds <= limits.seconds:
        return None, f"ZDT401 large-table ({facts}): ok"
    if reason:
        return None, f"ZDT401 large-table ({facts}): approved: {reason}"
    message = (
        f"{step.description} would {_doing(kind)} {impact.table} under {impact.lock} for about "
        f"{seconds:.1f} s, blocking {_blocked(impact.lock)} ({facts})."
    )
    verdict = Violation(LARGE_TABLE[0], message, params={"advice": instead or advice(impact, kind)})
    if reason == "":
        verdict = replace(
            verdict, hint="The approval of ZDT401 needs a reason. " + hint_for(verdict)
        )
    finding = make_finding(verdict, _where(step), severity=severity)
    outcome = "REFUSED" if severity == "error" else "warning"
    return finding, f"ZDT401 large-table ({facts}): {outcome}"


def _doing(kind: str) -> str:
    return {"rewrite": "rewrite", "index build": "build an index on", "scan": "scan"}[kind]


def _blocked(lock: str) -> str:
    return "reads and writes" if lock == "ACCESS EXCLUSIVE" else "writes"


def advice(impact: Impact, kind: str) -> str:
    """What to do instead, with the table's and columns' own names."""
    table = impact.table
    if impact.type_changes:
        column, new_type = impact.type_changes[0]
        return (
            f"Change the type without a rewrite: add a new column of type {new_type} to "
            f"{table}, keep it in sync with {column} (a dual-write trigger, as DualWriteRename "
            "does), backfill it with BatchedBackfill, switch reads, then drop "
            f"{column} in a later release."
        )
    if kind == "index build":
        return (
            f"Build the index on {table} with CREATE INDEX CONCURRENTLY (AddIndexConcurrently), "
            "then attach a unique or primary key constraint with ADD CONSTRAINT ... USING INDEX."
        )
    if "NOT NULL" in impact.kind:
        return (
            f"Prove the column NOT NULL without the long lock: ADD CONSTRAINT ... CHECK (column "
            f"IS NOT NULL) NOT VALID on {table}, VALIDATE CONSTRAINT, then SET NOT NULL."
        )
    if kind == "scan":
        return (
            f"Add the constraint to {table} NOT VALID (AddConstraintNotValid), then validate "
            "it with ValidateConstraint, which does not block reads or writes."
        )
    return (
        f"Avoid the rewrite of {table}: add the column nullable without a volatile default, "
        "backfill it with BatchedBackfill, then set the default (AddColumnWithDefault)."
    )


def _where(step: PlanStep) -> locate.Location:
    return locate.location(step.app, step.migration, step.index, step.operation)


def backwards_finding(migration: Migration) -> Finding:
    """ZDT402: the plan would unapply ``migration``."""
    message = (
        f"Refusing to migrate backwards: {migration.app_label}.{migration.name} is applied "
        "and the target would unapply it."
    )
    finding = make_finding(Violation(BACKWARDS[0], message), locate.of_migration(migration))
    assert finding is not None  # ZDT402 cannot be switched off
    return finding


def current_type(cursor: Any, quoted_table: str, column: str) -> str | None:
    cursor.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped",
        [quoted_table, column],
    )
    row = cursor.fetchone()
    return row[0] if row else None


def refine(cursor: Any, impact: Impact, quote: Any) -> Impact:
    """Judge type changes against the live column's type (:func:`sql.types.type_change`)."""
    if not impact.type_changes or impact.table is None or impact.drops or impact.adds:
        return impact
    rebuilds = False
    for column, new_type in impact.type_changes:
        old = current_type(cursor, quote(impact), column)
        change = type_change(old, new_type)
        if old is None or change.rewrites:
            return replace(impact, rewrites=True)
        rebuilds = rebuilds or change.rebuilds_indexes
    return replace(impact, rewrites=False, builds_index=rebuilds)


def retype_advice(cursor: Any, migration: Migration, step: PlanStep, impact: Impact) -> str | None:
    """For Django's own ``AlterField`` of a type ``RetypeField`` changes without a rewrite
    (one family: integers, text, numbers): those operations, with the user's names."""
    operation = operation_of(migration, step)
    if type(operation) is not AlterField or not impact.type_changes or impact.drops:
        return None
    column, new_type = impact.type_changes[0]
    if not same_family(current_type(cursor, relation(impact), column), new_type):
        return None
    names = f'"{operation.model_name}", "{operation.name}"'
    return (
        f"Change the type without a rewrite: replace AlterField({names}, ...) with "
        f"DeclareModelChange([AlterField({names}, ...)]) and RetypeField({names}) in an "
        f"atomic = False migration, then CompleteRetypeField({names}) in a later release "
        "(makemigrations writes these with django-zero-downtime installed)."
    )


def operation_of(migration: Migration, step: PlanStep) -> Any:
    if step.index is None or step.index >= len(migration.operations):
        return None
    return migration.operations[step.index]


def relation(impact: Impact) -> str:
    """The statement's table for a catalogue lookup: as the SQL qualifies it (a
    ``db_table = '"sales"."orders"'``), else quoted (a " inside escaped; quote_name does
    not) and found on the search_path."""
    table = impact.table or ""
    return parse.relation_of(impact.sql, table) or quote_ident(table)


def cheap_at_any_size(migration: Migration, step: PlanStep) -> bool:
    """The step's operation says every statement it runs is catalog-only, CONCURRENTLY,
    batched or proved (``cheap_at_any_size = True``): the size rule has nothing to judge."""
    return bool(getattr(operation_of(migration, step), "cheap_at_any_size", False))


def judge_steps(
    connection: Any,
    steps: list[PlanStep],
    migrations: Mapping[tuple[str, str], Migration],
    limit: int,
    budget_s: float | None = None,
) -> tuple[list[Finding], dict[str, list[str]]]:
    """ZDT401 for every step: the refusals, and the verdict lines per step key. Sizes are
    looked up once per table and only for statements that cost time under their lock."""
    budget = conf.get_settings().REHEARSAL_BUDGET if budget_s is None else budget_s
    limits = SizeLimits(limit, budget)
    findings: list[Finding] = []
    verdicts: dict[str, list[str]] = {}
    quote = relation
    severity = Policy.from_settings().severity_of(LARGE_TABLE[0])
    if severity is None:  # switched off by ZDT_RULES_IGNORE / _SELECT / _SEVERITY
        return findings, verdicts
    sizes: dict[str, TableSize] = {}
    with connection.cursor() as cursor:
        for step in steps:
            migration = migrations[(step.app, step.migration)]
            if cheap_at_any_size(migration, step):
                continue
            reason = approval_reason(migration, LARGE_TABLE[0], step.index)
            for impact in step.impacts:
                if impact.table is None or not impact.judged:
                    continue
                impact, size = _sized(cursor, refine(cursor, impact, quote), quote, sizes)
                instead = retype_advice(cursor, migration, step, impact)
                finding, verdict = judge_size(step, impact, size, limits, reason, severity, instead)
                verdicts.setdefault(step.key, []).append(verdict)
                findings.extend([finding] if finding else [])
    return findings, verdicts


EMPTY = TableSize(0, 0, 0, "not looked up")


def _sized(
    cursor: Any, impact: Impact, quote: Any, sizes: dict[str, TableSize]
) -> tuple[Impact, TableSize]:
    """``impact`` and its table's size, looked up (once) only when the statement costs."""
    if not cost.work(impact):
        return impact, EMPTY
    table = quote(impact)
    if table not in sizes:
        sizes[table] = cost.table_size(cursor, table)
    return impact, sizes[table]
