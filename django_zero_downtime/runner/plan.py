"""The plan: which migrations run, and per operation the SQL, its lock and its cost.

SQL is collected in one pass over the plan with one evolving project state (never one
``sqlmigrate`` per migration, docs/postgres-facts.md#traps), with Django's schema editor in
``collect_sql`` mode, so nothing touches the schema. Each statement is classified by
:mod:`django_zero_downtime.sql.classify`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.operations import NotInTransactionMixin
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState

from django_zero_downtime import conf, traits
from django_zero_downtime.exceptions import RefusedByRule, UnsafeOperationError
from django_zero_downtime.operations import estimate
from django_zero_downtime.operations.batch_plan import BackfillPlan, pk_column
from django_zero_downtime.sql.classify import LOCKS, Impact, classify_sql
from django_zero_downtime.sql.size import table_size
from django_zero_downtime.sql.state import Schema

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
    notes: list[str] = field(default_factory=list)
    """What the operation does beyond its SQL (``base.note``: e.g. a backfill in batches)."""
    backfill_plan: BackfillPlan | None = None
    """The batches the operation will run (table, key, sizes), for its estimate."""
    backfill: str = ""
    """The backfill said in full: table, rows, batch size, estimated time."""

    @property
    def key(self) -> str:
        return step_key(self.app, self.migration, self.index)

    @property
    def lock(self) -> str:
        """The strongest lock of its statements; a backfill's batches take ROW EXCLUSIVE."""
        locks = [i.lock for i in self.impacts if i.lock != "NONE"]
        locks += ["ROW EXCLUSIVE"] if self.backfill_plan else []
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


def start_state(executor: MigrationExecutor, plan: list[PlanEntry]) -> ProjectState:
    """The project state with every applied migration (as the executor builds it)."""
    return executor._create_project_state(with_applied_migrations=True)  # type: ignore[attr-defined]


TRAIL_MODELS = 300_000
"""Model states a trail keeps at most: about 1 KB each (wagtail + contrib: 100,000)."""


@dataclass
class StateTrail:
    """The project state before every forward operation of the plan, kept from the plan's
    pass so that applying does not replay and re-render the same states (rendering is most
    of what ``migrate`` spends on a long history). As in Django's own backwards executor,
    each kept state is left as it was and the replay goes on with a clone. Keyed by the
    operation object: ``pre_migrate`` receivers may insert operations after the plan
    (contenttypes' ``RenameContentType``), and those are not in the trail."""

    before: dict[int, ProjectState] = field(default_factory=dict)
    after: dict[int, int] = field(default_factory=dict)
    final: ProjectState | None = None
    limit: int = TRAIL_MODELS
    """At most this many model states kept (memory); the apply replays the rest."""
    _last: int = 0
    _kept: int = 0

    def keep(self, operation: object, state: ProjectState) -> None:
        if self._kept > self.limit:
            return
        if self._last:
            self.after[self._last] = id(operation)
        self.before[id(operation)], self._last = state, id(operation)
        self._kept += len(state.models)

    def finish(self, state: ProjectState) -> None:
        """``state`` follows the last operation (unless the trail stopped before it)."""
        if self._kept <= self.limit:
            self.final = state

    def release(self, operations: Iterable[object]) -> None:
        """Forget the states kept for ``operations`` (a migration that is applied and will
        not be retried): their memory goes back to the allocator while the run goes on."""
        for operation in operations:
            self.before.pop(id(operation), None)
            self.after.pop(id(operation), None)

    def states(self, operation: object) -> tuple[ProjectState, ProjectState] | None:
        """``(from_state, to_state)`` of ``operation``; the next operation's ``from_state``
        is this one's ``to_state``, the plan's final state follows the last one."""
        following = self.after.get(id(operation))
        to_state = self.before.get(following) if following else self.final
        if id(operation) not in self.before or to_state is None:
            return None
        return self.before[id(operation)], to_state


def collect_steps(
    connection: BaseDatabaseWrapper,
    plan: list[PlanEntry],
    state: ProjectState,
    prepare: Callable[[], object] | None = None,
    trail: StateTrail | None = None,
) -> list[PlanStep]:
    """SQL and impact of every forward operation in ``plan``, replayed from ``state``
    (which is kept as the first operation's ``from_state``, not changed; see StateTrail).

    Collection runs in a transaction that is rolled back: some operations write the ledger
    even in ``collect_sql`` mode, and ``prepare`` (e.g. the tentative release record, so the
    drop gates count it) must not outlive the plan. Operations that refuse to run inside a
    transaction (``AddIndexConcurrently``) are collected after it, with no side effects.
    """
    steps: list[PlanStep] = []
    outside: list[_Later] = []
    with transaction.atomic(using=connection.alias):
        if prepare is not None:
            prepare()
        for migration, backwards in plan:
            if not backwards:
                found, state = _migration_steps(connection, migration, state, outside, trail)
                steps.extend(found)
        transaction.set_rollback(True, using=connection.alias)
    if trail is not None:
        trail.finish(state)
    for later in outside:
        later.collect(connection)
    classify_steps(steps, Schema(version=server_major(connection)))
    return steps


def classify_steps(steps: list[PlanStep], schema: Schema) -> None:
    """Every step's statements through the one classification, in plan order, so what an
    earlier step established (a new table, a validated NOT NULL proof) counts for later ones."""
    for step in steps:
        step.impacts = [i for sql in step.sql for i in classify_sql(sql, schema)]


def server_major(connection: BaseDatabaseWrapper) -> int:
    try:
        return int(connection.pg_version) // 10000  # type: ignore[attr-defined]
    except Exception:  # not connected or not PostgreSQL: the setting decides
        return conf.get_settings().POSTGRES_VERSION


@dataclass
class _Later:
    """An operation collected after the rolled-back transaction (it needs none)."""

    step: PlanStep
    operation: Any
    from_state: ProjectState
    to_state: ProjectState

    def collect(self, connection: BaseDatabaseWrapper) -> None:
        with connection.schema_editor(collect_sql=True, atomic=False) as editor:
            _database_forwards(self.step, self.operation, editor, self.from_state, self.to_state)
        self.step.sql = _statements(editor.collected_sql)


def _migration_steps(
    connection: BaseDatabaseWrapper,
    migration: Migration,
    state: ProjectState,
    outside: list[_Later],
    trail: StateTrail | None = None,
) -> tuple[list[PlanStep], ProjectState]:
    """The migration's steps, and the state after it (a new object: each operation's
    ``from_state`` is left as it was, so the trail can hand it to the apply)."""
    steps = []
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        for index, operation in enumerate(migration.operations):
            step = _new_step(migration, index, operation.__class__.__name__, operation.describe())
            before = len(editor.collected_sql)
            old_state, state = state, state.clone()
            if trail is not None:
                trail.keep(operation, old_state)
            operation.state_forwards(migration.app_label, state)
            if not operation.reduces_to_sql:
                step.python = True
            elif isinstance(operation, NotInTransactionMixin):
                outside.append(_Later(step, operation, old_state, state.clone()))
            else:
                savepoint = _may_abort(operation)
                _database_forwards(step, operation, editor, old_state, state, savepoint)
            step.sql = _statements(editor.collected_sql[before:])
            step.notes = _notes(editor.collected_sql[before:])
            step.backfill_plan = _backfill_plan(step, operation, old_state)
            steps.append(step)
        after_operations = len(editor.collected_sql)
    deferred = _statements(editor.collected_sql[after_operations:])
    if deferred:
        step = _new_step(migration, None, DEFERRED, "deferred SQL (constraints, indexes)")
        step.sql = deferred
        steps.append(step)
    return steps, state


CATALOG_READERS = (
    "django.db.migrations.operations.models",
    "django.db.migrations.operations.fields",
)
"""Modules of Django's own model and field operations: collecting their SQL reads only the
catalogs (introspection), which cannot abort the collection's transaction."""


def _may_abort(operation: Any) -> bool:
    """Does collecting ``operation`` need a savepoint? Any operation but Django's own model
    and field operations may query a table that is not there (a third-party operation, or
    one inside ``SeparateDatabaseAndState``); the savepoint keeps the rest collectable.
    Skipping it for the others saves two round trips per operation."""
    return type(operation).__module__ not in CATALOG_READERS


def _backfill_plan(step: PlanStep, operation: Any, state: ProjectState) -> BackfillPlan | None:
    """The backfill's plan for its ``--plan`` line; a model the batches cannot walk (a
    composite primary key) is said on the step, as the apply will refuse it."""
    if not traits.backfills_rows(operation):
        return None
    try:
        model = state.apps.get_model(step.app, operation.model_name)
    except (AttributeError, LookupError):
        return None
    try:
        pk = pk_column(model, operation.describe())
    except UnsafeOperationError as exc:
        step.error = step.error or f"{exc.__class__.__name__}: {exc}"
        return None
    return estimate.plan_of(operation, model._meta.db_table, pk)


def estimate_backfills(connection: BaseDatabaseWrapper, steps: list[PlanStep]) -> None:
    """Each backfill's line for ``--plan``: the real row count (the size rule's) and the
    engine's loop at a rate from this server (the bounds query timed; nothing written)."""
    if not any(step.backfill_plan for step in steps):
        return
    with connection.cursor() as cursor:
        reads = estimate.calibrate(cursor)
        for step in steps:
            plan = step.backfill_plan
            if plan is None:
                continue
            rows = table_size(cursor, connection.ops.quote_name(plan.table)).rows
            rate = estimate.measure(cursor, plan, write=False, reads=reads)
            step.backfill = f"backfill {plan.table}: {estimate.describe(rows, plan, rate)}"


def _new_step(migration: Migration, index: int | None, operation: str, text: str) -> PlanStep:
    return PlanStep(migration.app_label, migration.name, index, operation, text, migration.atomic)


def _database_forwards(
    step: PlanStep,
    operation: Any,
    editor: Any,
    old: ProjectState,
    new: ProjectState,
    savepoint: bool = False,
) -> None:
    try:
        with transaction.atomic(using=editor.connection.alias) if savepoint else nullcontext():
            operation.database_forwards(step.app, editor, old, new)
    except RefusedByRule as exc:
        step.refusal = str(exc)
    except Exception as exc:  # a third-party operation that cannot be rendered offline
        step.error = f"{exc.__class__.__name__}: {exc}"


NOTE = "-- django-zero-downtime: "


def _notes(collected: list[str]) -> list[str]:
    return [sql.strip()[len(NOTE) :] for sql in collected if sql.strip().startswith(NOTE)]


def _statements(collected: list[str]) -> list[str]:
    return [sql for sql in collected if sql.strip() and not sql.lstrip().startswith("--")]


def format_plan(
    steps: list[PlanStep], verdicts: dict[str, list[str]], verbosity: int = 1
) -> list[str]:
    """``--plan`` output: steps in order with lock, statements and the rules judging them
    (each rule line once); at ``verbosity`` 2 every statement in full with its own lock."""
    lines: list[str] = []
    current = ""
    for number, step in enumerate(steps, 1):
        label = f"{step.app}.{step.migration}"
        if label != current:
            current = label
            lines.append(f"{label} ({'atomic' if step.atomic else 'non-atomic'})")
        rules = list(dict.fromkeys(verdicts.get(step.key, [])))
        lines.extend(_step_lines(number, step, rules, verbosity))
    return lines or ["No migrations to apply."]


def _step_lines(number: int, step: PlanStep, verdicts: list[str], verbosity: int) -> list[str]:
    tables = sorted({i.table for i in step.impacts if i.table} | _backfilled(step))
    where = f" on {', '.join(tables)}" if tables else ""
    lines = [f"  {number}. {step.description} [{step.lock}{where}]"]
    if step.python:
        lines.append("       runs Python (no SQL to show)")
    if step.refusal:
        lines.append(f"       REFUSED: {step.refusal}")
    if step.error:
        lines.append(f"       SQL could not be collected: {step.error}")
    lines.extend(f"       -- {note}" for note in step.notes)
    lines.extend([f"       {step.backfill}"] if step.backfill else [])
    for sql in step.sql:
        lines.extend(_statement_lines(sql) if verbosity >= 2 else [f"       {_first_line(sql)}"])
    lines.extend(f"       rule {verdict}" for verdict in verdicts)
    return lines


def _backfilled(step: PlanStep) -> set[str]:
    return {step.backfill_plan.table} if step.backfill_plan else set()


def _first_line(sql: str, width: int = 120) -> str:
    """The statement's first line, with an ellipsis when anything was left out."""
    text = sql.strip()
    first = text.splitlines()[0] if text else ""
    cut = first[:width]
    return cut + " …" if cut != text else cut


def _dedent(text: str) -> str:
    """Remove the first line's indentation from every line that has it (a statement built
    from indented Python strings around an unindented body keeps the body's shape)."""
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    indent = first[: len(first) - len(first.lstrip())]
    return "\n".join(line.removeprefix(indent) for line in lines)


def _statement_lines(sql: str) -> list[str]:
    """``-v 2``: the statement in full, after the lock each of its parts takes."""
    locks = ", ".join(
        f"{i.kind} {i.lock}{' on ' + i.table if i.table else ''}" for i in classify_sql(sql)
    )
    body = _dedent(sql.strip("\n")).rstrip()
    return [f"       -- lock: {locks or 'none'}", *(f"       {line}" for line in body.splitlines())]
