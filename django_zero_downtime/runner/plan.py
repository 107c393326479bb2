"""The plan: which migrations run, and per operation the SQL, its lock and its cost.

SQL is collected in one pass over the plan with one evolving project state (never one
``sqlmigrate`` per migration, design.md §5), with Django's schema editor in ``collect_sql``
mode, so nothing touches the schema. Each statement is classified by :mod:`.impact`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState

from django_zero_downtime.exceptions import RefusedByRule
from django_zero_downtime.runner.impact import LOCKS, Impact, classify_sql

PlanEntry = tuple[Migration, bool]
DEFERRED = "deferred SQL"


@dataclass
class PlanStep:
    """One operation of a migration (or the migration's deferred SQL)."""

    app: str
    migration: str
    index: int | None
    operation: str
    description: str
    atomic: bool
    sql: list[str] = field(default_factory=list)
    impacts: list[Impact] = field(default_factory=list)
    python: bool = False
    """Runs Python (RunPython): no SQL to show, judged by the checker, not here."""
    error: str = ""
    """Why the SQL could not be collected (third-party operation that needs the database)."""
    refusal: str = ""
    """The operation refused itself (e.g. a drop gated by the deploy-cycle ledger)."""

    @property
    def key(self) -> str:
        return step_key(self.app, self.migration, self.index)

    @property
    def lock(self) -> str:
        locks = [i.lock for i in self.impacts if i.lock != "NONE"]
        return max(locks, key=_rank, default="NONE" if not self.error else "unknown")


def _rank(lock: str) -> int:
    return LOCKS.index(lock) if lock in LOCKS else len(LOCKS)


def step_key(app: str, migration: str, index: int | None) -> str:
    return f"{app}.{migration}:{'deferred' if index is None else index}"


def migration_plan(
    executor: MigrationExecutor, targets: list[tuple[str, str | None]]
) -> list[PlanEntry]:
    """The plan Django's ``migrate`` would run for ``targets`` (may contain backwards steps)."""
    return list(executor.migration_plan(targets))


def targets_for(
    executor: MigrationExecutor, app_label: str | None, name: str | None
) -> list[tuple[str, str | None]]:
    """Turn the command's positional arguments into executor targets, like ``migrate``."""
    if app_label is None:
        return executor.loader.graph.leaf_nodes()
    if name is None:
        return [key for key in executor.loader.graph.leaf_nodes() if key[0] == app_label]
    if name == "zero":
        return [(app_label, None)]
    migration = executor.loader.get_migration_by_prefix(app_label, name)
    return [(app_label, migration.name)]


def start_state(executor: MigrationExecutor, plan: list[PlanEntry]) -> ProjectState:
    """The project state with every applied migration (as the executor builds it)."""
    return executor._create_project_state(with_applied_migrations=True)


def collect_steps(
    connection: BaseDatabaseWrapper, plan: list[PlanEntry], state: ProjectState
) -> list[PlanStep]:
    """SQL and impact of every forward operation in ``plan``; advances ``state``."""
    steps: list[PlanStep] = []
    for migration, backwards in plan:
        if not backwards:
            steps.extend(_migration_steps(connection, migration, state))
    return steps


def _migration_steps(
    connection: BaseDatabaseWrapper, migration: Migration, state: ProjectState
) -> list[PlanStep]:
    steps = []
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        for index, operation in enumerate(migration.operations):
            step = _new_step(migration, index, operation.__class__.__name__, operation.describe())
            before = len(editor.collected_sql)
            _collect_operation(step, migration.app_label, operation, editor, state)
            step.sql = _statements(editor.collected_sql[before:])
            steps.append(step)
        after_operations = len(editor.collected_sql)
    deferred = _statements(editor.collected_sql[after_operations:])
    if deferred:
        step = _new_step(migration, None, DEFERRED, "deferred SQL (constraints, indexes)")
        step.sql = deferred
        steps.append(step)
    for step in steps:
        step.impacts = [i for sql in step.sql for i in classify_sql(sql)]
    return steps


def _new_step(migration: Migration, index: int | None, operation: str, text: str) -> PlanStep:
    return PlanStep(migration.app_label, migration.name, index, operation, text, migration.atomic)


def _collect_operation(
    step: PlanStep, app: str, operation: Any, editor: Any, state: ProjectState
) -> None:
    old_state = state.clone()
    operation.state_forwards(app, state)
    if not operation.reduces_to_sql:
        step.python = True
        return
    try:
        operation.database_forwards(app, editor, old_state, state)
    except RefusedByRule as exc:
        step.refusal = str(exc)
    except Exception as exc:  # a third-party operation that cannot be rendered offline
        step.error = f"{exc.__class__.__name__}: {exc}"


def _statements(collected: list[str]) -> list[str]:
    return [sql for sql in collected if sql.strip() and not sql.lstrip().startswith("--")]


def format_plan(steps: list[PlanStep], verdicts: dict[str, list[str]]) -> list[str]:
    """``--plan`` output: steps in order with lock, statements and the rules judging them."""
    lines: list[str] = []
    current = ""
    for number, step in enumerate(steps, 1):
        label = f"{step.app}.{step.migration}"
        if label != current:
            current = label
            lines.append(f"{label} ({'atomic' if step.atomic else 'non-atomic'})")
        lines.extend(_step_lines(number, step, verdicts.get(step.key, [])))
    return lines or ["No migrations to apply."]


def _step_lines(number: int, step: PlanStep, verdicts: list[str]) -> list[str]:
    tables = sorted({i.table for i in step.impacts if i.table})
    where = f" on {', '.join(tables)}" if tables else ""
    lines = [f"  {number}. {step.description} [{step.lock}{where}]"]
    if step.python:
        lines.append("       runs Python (no SQL to show)")
    if step.refusal:
        lines.append(f"       REFUSED: {step.refusal}")
    if step.error:
        lines.append(f"       SQL could not be collected: {step.error}")
    lines.extend(f"       {sql.splitlines()[0][:120]}" for sql in step.sql)
    lines.extend(f"       rule {verdict}" for verdict in verdicts)
    return lines
