"""``safemigrate --rehearse``: run the pending migrations for real, measure, roll back.

Meant for a staging copy or snapshot of production. Everything runs in one transaction
that is rolled back at the end, so the schema is left exactly as it was. Per statement the
report shows the locks taken, whether a relation was rewritten or scanned, and the time
(:mod:`.rehearsal_probe`). Operations that cannot run in a transaction (concurrent index
builds, batched backfills) are not run; they are reported with an estimate from the table
size. Errors (exit 1): a migration over ``ZDT_REHEARSAL_BUDGET`` seconds (ZDT450), a rewrite
under ACCESS EXCLUSIVE (ZDT451), a migration that fails on the real data (ZDT452).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations import SeparateDatabaseAndState
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from django_zero_downtime import conf, traits
from django_zero_downtime.bluegreen.previous import applied_nodes
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.findings import locate
from django_zero_downtime.findings import render as renderer
from django_zero_downtime.findings.approvals import approval
from django_zero_downtime.findings.catalogue import Violation
from django_zero_downtime.findings.factory import make_finding
from django_zero_downtime.findings.model import Finding
from django_zero_downtime.findings.policy import Policy
from django_zero_downtime.findings.render import brief
from django_zero_downtime.guard import runtime as guard
from django_zero_downtime.rehearsal.estimate import Target, estimate
from django_zero_downtime.rehearsal.probe import Statement, StatementProbe
from django_zero_downtime.targets import migration_targets


@dataclass
class OperationReport:
    index: int
    description: str
    seconds: float = 0.0
    statements: list[Statement] = field(default_factory=list)
    not_rehearsed: str = ""
    """Why the operation was not run, what it locks and its estimate (non-transactional)."""
    estimate_s: float | None = None
    """The measured estimate of an operation that was not run (rehearsal/estimate.py)."""


@dataclass
class MigrationReport:
    app_label: str
    name: str
    seconds: float = 0.0
    operations: list[OperationReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    failed: bool = False
    """An operation failed (ZDT452): the rehearsal stops after this migration."""


class _Rollback(Exception):
    """Raised inside the rehearsal transaction to roll it back."""


def rehearse(using: str, targets: list[tuple[str, str]] | None = None) -> list[MigrationReport]:
    """Rehearse the pending migrations (up to ``targets``) on ``using``; change nothing."""
    connection = connections[using]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(targets or executor.loader.graph.leaf_nodes())
    if any(backwards for _, backwards in plan):
        raise ZeroDowntimeError("The target unapplies migrations; rehearsal only goes forwards.")
    state = executor.loader.project_state(sorted(applied_nodes(executor.loader)))
    reports: list[MigrationReport] = []
    try:
        with transaction.atomic(using=using):
            for migration, _ in plan:
                report, state = _rehearse_migration(connection, migration, state)
                reports.append(report)
                if report.failed:
                    break
            raise _Rollback
    except _Rollback:
        pass
    return reports


def _rehearse_migration(
    connection: BaseDatabaseWrapper, migration: Migration, state: ProjectState
) -> tuple[MigrationReport, ProjectState]:
    report = MigrationReport(migration.app_label, migration.name)
    started = time.perf_counter()
    for index, op in enumerate(migration.operations):
        after = state.clone()
        op.state_forwards(migration.app_label, after)
        op_report = OperationReport(index, op.describe())
        report.operations.append(op_report)
        try:
            _rehearse_operation(connection, migration, op, state, after, op_report)
        except (DatabaseError, ZeroDowntimeError) as exc:
            skipped = [o.index for o in report.operations if o.not_rehearsed]
            if not skipped:
                report.failed = True
                report.findings += _failed(migration, index, op, exc)
                break
            op_report.not_rehearsed = (
                f"failed after operation {skipped[-1]}, which could not be rehearsed "
                f"(it may need what that one builds): not judged ({_first_line(exc)})"
            )
        state = after
    report.seconds = time.perf_counter() - started
    report.findings += verdicts(report, migration, conf.get_settings().REHEARSAL_BUDGET)
    return report, state


def _rehearse_operation(
    connection: BaseDatabaseWrapper,
    migration: Migration,
    op: Operation,
    before: ProjectState,
    after: ProjectState,
    report: OperationReport,
) -> None:
    if non_transactional(op):
        found = estimate(Target(connection, migration.app_label, op, before, after))
        report.not_rehearsed, report.estimate_s = found.text, found.seconds
        return
    started = time.perf_counter()
    with (
        transaction.atomic(using=connection.alias),
        StatementProbe(connection) as probe,
        connection.schema_editor(atomic=False) as editor,
    ):
        op.database_forwards(migration.app_label, editor, before, after)
    report.seconds = time.perf_counter() - started
    report.statements = probe.statements


def non_transactional(op: Operation) -> bool:
    """Operations that cannot run inside the rehearsal's transaction, also when wrapped in
    ``SeparateDatabaseAndState`` (what the ZDT110 hint recommends)."""
    if isinstance(op, SeparateDatabaseAndState):
        return any(non_transactional(inner) for inner in op.database_operations)
    return traits.cannot_run_in_transaction(op)


# --- verdicts (pure) --------------------------------------------------------------------


def verdicts(report: MigrationReport, migration: Migration, budget: float) -> list[Finding]:
    """ZDT450 over budget, ZDT451 rewrite under ACCESS EXCLUSIVE (approvals respected)."""
    found: list[Finding] = []
    if report.seconds > budget:
        message = (
            f"{report.app_label}.{report.name} took {report.seconds:.2f} s in rehearsal, over "
            f"ZDT_REHEARSAL_BUDGET ({budget:g} s)."
        )
        found += _finding("ZDT450", migration, None, message)
    for op_report in report.operations:
        for statement in op_report.statements:
            rewritten = statement.rewrote_under_access_exclusive()
            if rewritten:
                message = (
                    f"{op_report.description}: rewrote {', '.join(rewritten)} while holding "
                    f"ACCESS EXCLUSIVE ({statement.seconds:.2f} s here; reads and writes wait "
                    "for all of it)."
                )
                found += _finding("ZDT451", migration, op_report.index, message)
    return found


def _finding(rule: str, migration: Migration, index: int | None, message: str) -> list[Finding]:
    """The finding (none when ZDT_RULES_* switch the rule off); an approval on the migration
    or on the operation makes it a warning."""
    where = locate.of_migration(migration, index)
    found = make_finding(
        Violation(rule, message),
        where,
        policy=Policy.from_settings(),
        approval=approval(migration, rule, index),
    )
    return [found] if found is not None else []


def _failed(migration: Migration, index: int, op: Operation, exc: Exception) -> list[Finding]:
    return _finding("ZDT452", migration, index, f"{op.describe()} failed: {_first_line(exc)}")


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [repr(exc)])[0]


# --- the command ------------------------------------------------------------------------


def run(command: BaseCommand, options: dict[str, Any]) -> int:
    guard.refuse_if_web_process("safemigrate --rehearse")
    using = options["database"]
    reports = rehearse(using, _targets(using, options))
    fmt = options.get("rehearse_format") or options.get("lint_format") or "text"
    command.stdout.write(render(using, reports, fmt))
    return 1 if any(f.is_error for r in reports for f in r.findings) else 0


def render(using: str, reports: list[MigrationReport], fmt: str) -> str:
    """The rehearsal in ``fmt``: text, or any format of the one renderer (json: the
    document with ``command: "rehearse"`` and the per-migration details)."""
    if fmt == "text":
        return "\n".join(format_text(using, reports))
    findings = [f for r in reports for f in r.findings]
    errors = sum(1 for f in findings if f.is_error)
    closing = f"{errors} error(s), {len(findings) - errors} warning(s) in rehearsal."
    summary = renderer.Summary({"migrations": len(reports)}, [], closing)
    details = [{k: v for k, v in asdict(r).items() if k != "findings"} for r in reports]
    return renderer.render_command(
        "rehearse", findings, fmt, summary, database=using, migrations=details
    )


def _targets(using: str, options: dict[str, Any]) -> list[tuple[str, str]] | None:
    app_label, name = options.get("app_label"), options.get("migration_name")
    if not app_label:
        return None
    loader = MigrationExecutor(connections[using]).loader
    return migration_targets(loader, app_label, name)  # type: ignore[return-value]


def format_text(using: str, reports: list[MigrationReport]) -> list[str]:
    lines = [f"Rehearsal on database {using!r} (rolled back: the schema is unchanged)."]
    if not reports:
        return [*lines, "No migrations to rehearse."]
    for report in reports:
        lines.append(f"{report.app_label}.{report.name}  {report.seconds:.3f} s")
        for op in report.operations:
            lines += _format_operation(op)
        lines += [f"  {f.severity.upper()} {brief(f, '  ').lstrip()}" for f in report.findings]
    return lines


def _format_operation(op: OperationReport) -> list[str]:
    if op.not_rehearsed:
        return [f"  [{op.index}] {op.description}: {op.not_rehearsed}"]
    lines = [f"  [{op.index}] {op.description}  {op.seconds:.3f} s"]
    for statement in op.statements:
        lines.append(f"      {statement.seconds:.3f} s  {_short(statement.sql)}")
        kinds = ", ".join(sorted(statement.kinds())) or "none"
        rewrote = ", ".join(statement.rewritten) or "none"
        lines.append(f"        rewrote: {rewrote}; scan/build: {kinds}")
        locks = [
            f"{n} {m}{'' if new else ' (held before)'}" for n, m, new in statement.relation_locks()
        ]
        lines.append(f"        locks: {', '.join(locks) or 'none'}")
        lines += [f"        server: {notice}" for notice in statement.notices]
    return lines


def _short(sql: str, width: int = 120) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= width else sql[: width - 3] + "..."
