"""Rules of engagement against the live database (ZDT4xx), judged before anything runs.

- ZDT401 ``large-table``: a step that rewrites a table, scans it under a lock that blocks
  writes, drops from it or adds to it is refused when the table has more than
  ``ZDT_LARGE_TABLE_ROWS`` rows, unless the migration (or that operation, with
  ``suppress``) approves it with a reason:
  ``zero_downtime = {"ZDT401": "approved by DBA: off-peak window"}``.
- ZDT402 ``backwards-migration``: migrations are never rolled back; fix forward.

Drops of deprecated columns and tables are gated by the deploy-cycle ledger inside the
``DropDeprecated*`` operations themselves (they raise ``RefusedByRule``).

The verdicts are pure functions; only :func:`table_rows` and :func:`current_type` ask the
database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from django.db.migrations.migration import Migration

from django_zero_downtime.findings import locate
from django_zero_downtime.findings.approvals import read_suppressions
from django_zero_downtime.findings.catalogue import Violation, hint_for
from django_zero_downtime.findings.dangers import COVERED_BY
from django_zero_downtime.findings.factory import make_finding
from django_zero_downtime.findings.model import Finding, Severity
from django_zero_downtime.findings.policy import Policy
from django_zero_downtime.runner.plan import PlanStep
from django_zero_downtime.sql.classify import Impact
from django_zero_downtime.sql.types import type_change

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


def rows_text(rows: int, limit: int) -> str:
    """``rows`` as counted by :func:`table_rows` (a count capped at ``limit + 1``)."""
    return f"more than {limit:,} rows" if rows == limit + 1 else f"{rows:,} rows"


def judge_size(
    step: PlanStep,
    impact: Impact,
    rows: int,
    limit: int,
    reason: str | None,
    severity: Severity = "error",
) -> tuple[Finding | None, str]:
    """ZDT401 on one statement: (finding when refused, the verdict line for ``--plan``)."""
    size = f"{impact.table}: {rows_text(rows, limit)}, limit {limit:,}"
    if not impact.judged or rows <= limit:
        return None, f"ZDT401 large-table ({size}): ok"
    if reason:
        return None, f"ZDT401 large-table ({size}): approved: {reason}"
    what = _what(impact)
    message = f"{step.description} would {what} {impact.table} ({size})."
    verdict = Violation(LARGE_TABLE[0], message, params={"what": what})
    if reason == "":
        verdict = replace(
            verdict, hint="The approval of ZDT401 needs a reason: " + hint_for(verdict)
        )
    finding = make_finding(verdict, _where(step), severity=severity)
    return (
        finding,
        f"ZDT401 large-table ({size}): {'REFUSED' if severity == 'error' else 'warning'}",
    )


def _what(impact: Impact) -> str:
    if impact.rewrites:
        return "rewrite"
    if impact.drops:
        return "drop from"
    if impact.strong_scan:
        return f"scan under {impact.lock} lock"
    return "add a column to"


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


def table_rows(cursor: Any, quoted_table: str, limit: int) -> int:
    """Rows in a table: ``reltuples``, or an exact count capped at ``limit + 1`` when the
    estimate is missing (-1: never vacuumed or analysed) or 0 while the table has pages."""
    cursor.execute(
        "SELECT reltuples::bigint, pg_relation_size(oid) FROM pg_class WHERE oid = to_regclass(%s)",
        [quoted_table],
    )
    row = cursor.fetchone()
    if row is None:
        return 0  # created earlier in this run: empty
    estimate, size = row
    if estimate > 0 or size == 0:
        return max(estimate, 0)
    cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {quoted_table} LIMIT %s) s", [limit + 1])
    return int(cursor.fetchone()[0])


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
        old = current_type(cursor, quote(impact.table), column)
        change = type_change(old, new_type)
        if old is None or change.rewrites:
            return replace(impact, rewrites=True)
        rebuilds = rebuilds or change.rebuilds_indexes
    return replace(impact, rewrites=False, builds_index=rebuilds)


def cheap_at_any_size(migration: Migration, step: PlanStep) -> bool:
    """The step's operation says every statement it runs is catalog-only, CONCURRENTLY,
    batched or proved (``cheap_at_any_size = True``): the size rule has nothing to judge."""
    if step.index is None or step.index >= len(migration.operations):
        return False
    return bool(getattr(migration.operations[step.index], "cheap_at_any_size", False))


def judge_steps(
    connection: Any,
    steps: list[PlanStep],
    migrations: Mapping[tuple[str, str], Migration],
    limit: int,
) -> tuple[list[Finding], dict[str, list[str]]]:
    """ZDT401 for every step: the refusals, and the verdict lines per step key."""
    findings: list[Finding] = []
    verdicts: dict[str, list[str]] = {}
    quote = connection.ops.quote_name
    severity = Policy.from_settings().severity_of(LARGE_TABLE[0])
    if severity is None:  # switched off by ZDT_RULES_IGNORE / _SELECT / _SEVERITY
        return findings, verdicts
    with connection.cursor() as cursor:
        for step in steps:
            migration = migrations[(step.app, step.migration)]
            if cheap_at_any_size(migration, step):
                continue
            reason = approval_reason(migration, LARGE_TABLE[0], step.index)
            for impact in step.impacts:
                if impact.table is None or not impact.judged:
                    continue
                impact = refine(cursor, impact, quote)
                rows = table_rows(cursor, quote(impact.table), limit)
                finding, verdict = judge_size(step, impact, rows, limit, reason, severity)
                verdicts.setdefault(step.key, []).append(verdict)
                findings.extend([finding] if finding else [])
    return findings, verdicts
