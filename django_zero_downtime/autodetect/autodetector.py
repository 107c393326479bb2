"""``makemigrations`` that writes the safe operations instead of the unsafe ones.

:class:`ZeroDowntimeAutodetectorMixin` goes over *whatever* autodetector class is current
(Django's, or django-pgtrigger's which adds trigger migrations; see :func:`compose`), and
rewrites what the autodetector produced, before the migrations get their names:

- ``RenameField`` that renames the column -> ``DualWriteRename`` (see :mod:`.renames`: the
  Remove/Add pairs of indexes and constraints it carries are left out; a primary key is
  refused);
- ``RemoveField`` of a column -> ``DeprecateColumn`` (the drop comes cycles later);
- ``AddField`` NOT NULL with a constant default -> ``AddColumnWithDefault``;
- ``RemoveIndex`` -> ``RemoveIndexConcurrently``;
- indexes, constraints, foreign keys, NOT NULL, callable/volatile defaults and type
  changes: the paths of :mod:`.paths` (contract steps moved out by :mod:`.phases`);
- consecutive catalog-only changes to one table -> one ``CombinedAlterTable``
  (:mod:`.combine`).

Only operations on tables that already exist are rewritten. Operations that need
``atomic = False`` are split into their own migration, chained in order with the rest, and
every migration that uses this project's operations depends on its ledger migration.
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.core.management.base import CommandError
from django.db import connection, migrations
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
from django.db.migrations.state import ProjectState
from django.db.models import NOT_PROVIDED

from django_zero_downtime import traits
from django_zero_downtime.autodetect import answers, combine, guesses, paths, phases, renames
from django_zero_downtime.lint import facts
from django_zero_downtime.lint.context import OperationContext

LEDGER = ("django_zero_downtime", "0001_initial")
FINDINGS = "_zero_downtime_findings"
"""Attribute of a new Migration holding the checker's findings on it (not serialised)."""


def _zdt() -> Any:
    from django_zero_downtime import operations

    return operations


def needs_non_atomic(operation: Operation) -> bool:
    return traits.cannot_run_in_transaction(operation)


def uses_ledger(operation: Operation) -> bool:
    return traits.uses_ledger(operation)


def rewrite_operation(ctx: OperationContext) -> Operation:
    """The safe operation to write instead of ``ctx.operation`` (itself when none applies)."""
    op: Any = ctx.operation
    kind = type(op)
    if kind is migrations.RenameField and _renames_column(ctx):
        field = ctx.existing_table(op.model_name)[0].fields[op.old_name]  # type: ignore[index]
        columns = (facts.bound(op.old_name, field).column, facts.bound(op.new_name, field).column)
        renames.refuse_primary_key(ctx.app_label, op, field, columns)
        return _zdt().DualWriteRename(op.model_name, op.old_name, op.new_name)
    if kind is migrations.RemoveField and _drops_column(ctx):
        return _zdt().DeprecateColumn(op.model_name, op.name)
    if kind is migrations.AddField and _constant_default_not_null(ctx):
        return _zdt().AddColumnWithDefault(op.model_name, op.name, op.field)
    if kind is migrations.AddIndex and ctx.existing_table(op.model_name):
        return AddIndexConcurrently(op.model_name, op.index)
    if kind is migrations.RemoveIndex and ctx.existing_table(op.model_name):
        return RemoveIndexConcurrently(op.model_name, op.name)
    return op


def _renames_column(ctx: OperationContext) -> bool:
    op: Any = ctx.operation
    found = ctx.existing_table(op.model_name)
    field = found[0].fields.get(op.old_name) if found else None
    if field is None or field.many_to_many:
        return False
    return facts.bound(op.old_name, field).column != facts.bound(op.new_name, field).column


def _drops_column(ctx: OperationContext) -> bool:
    op: Any = ctx.operation
    found = ctx.existing_table(op.model_name)
    field = found[0].fields.get(op.name) if found else None
    return field is not None and not field.many_to_many


def _constant_default_not_null(ctx: OperationContext) -> bool:
    op: Any = ctx.operation
    field = op.field
    if not ctx.existing_table(op.model_name) or field.null or field.is_relation:
        return False
    has_default = field.default is not NOT_PROVIDED and not callable(field.default)
    return has_default and field.db_default is NOT_PROVIDED and op.preserve_default


def _renames_folded(
    app_label: str, operations: list[Operation], state: ProjectState
) -> list[Operation]:
    """Django's operations with column renames as ``DualWriteRename`` and without the
    Remove/Add pairs those carry over (see :func:`renames.fold`). Folding comes before the
    other rewrites, which would turn the pairs into operations fold does not recognise."""
    start = state.clone()
    staged = []
    for operation in operations:
        ctx = OperationContext(app_label, operation, state, connection, new_tables=set())
        renamed = type(operation) is migrations.RenameField
        staged.append(rewrite_operation(ctx) if renamed else operation)
        operation.state_forwards(app_label, state)
    return renames.fold(app_label, staged, start)


def rewrite_operations(
    app_label: str, operations: list[Operation], state: ProjectState
) -> list[Operation]:
    """Rewrite one migration's operations, moving ``state`` forward past each."""
    new_tables: set[str] = set()
    out = []
    for operation in operations:
        ctx = OperationContext(app_label, operation, state, connection, new_tables=new_tables)
        out.extend(paths.safe_path(ctx) or [rewrite_operation(ctx)])
        operation.state_forwards(app_label, state)
        if isinstance(operation, migrations.CreateModel):
            model_state = facts.get_model_state(state, app_label, operation.name)
            if model_state is not None:
                new_tables.add(facts.table_name(model_state, connection))
    return out


def split_by_atomicity(migration: Migration) -> list[Migration]:
    """Consecutive runs of operations with the same needs, each its own migration.

    The last part keeps the original name, so migrations of other apps that depend on it
    still come after all of its operations; the first part keeps its dependencies.
    """
    runs: list[list[Operation]] = []
    for operation in migration.operations:
        if runs and needs_non_atomic(runs[-1][0]) == needs_non_atomic(operation):
            runs[-1].append(operation)
        else:
            runs.append([operation])
    if len(runs) <= 1:
        migration.atomic = not (runs and needs_non_atomic(runs[0][0]))  # type: ignore[misc]
        return [migration]
    parts: list[Migration] = []
    for number, run in enumerate(runs):
        last = number == len(runs) - 1
        name = migration.name if last else f"{migration.name}_zdt{number}"
        part = type(migration)(name, migration.app_label)
        part.operations = run  # type: ignore[misc]
        part.atomic = not needs_non_atomic(run[0])  # type: ignore[misc]
        part.initial = migration.initial and number == 0  # type: ignore[misc]
        part.dependencies = (  # type: ignore[misc]
            list(migration.dependencies) if number == 0 else [(migration.app_label, parts[-1].name)]
        )
        parts.append(part)
    return parts


def _add_ledger_dependency(migration: Migration) -> None:
    needed = migration.app_label != LEDGER[0] and any(map(uses_ledger, migration.operations))
    if needed and LEDGER not in migration.dependencies:
        migration.dependencies = [*migration.dependencies, LEDGER]  # type: ignore[misc]


def rewrite_changes(
    changes: dict[str, list[Migration]], from_state: ProjectState
) -> dict[str, list[Migration]]:
    """The autodetector's changes with safe operations, split where atomicity differs."""
    out: dict[str, list[Migration]] = {}
    for app_label, app_migrations in changes.items():
        state = from_state.clone()
        rewritten: list[Migration] = []
        try:
            for migration in app_migrations:
                staged = _renames_folded(app_label, list(migration.operations), state.clone())
                start = state.clone()
                written = rewrite_operations(app_label, staged, state)
                migration.operations = combine.combine(app_label, written, start)  # type: ignore[misc]
            *expand, contract = phases.split_contracts(app_label, app_migrations)
            for migration in expand:
                rewritten += split_by_atomicity(migration)
            rewritten += (
                [contract]
                if phases.is_contract_migration(contract)
                else split_by_atomicity(contract)
            )
        except renames.RenameRefused:
            raise
        except Exception:  # never break makemigrations: keep what Django detected
            out[app_label] = app_migrations
            continue
        for migration in rewritten:
            _add_ledger_dependency(migration)
        out[app_label] = rewritten
    return out


class ZeroDowntimeAutodetectorMixin:
    """Mix over the current autodetector class; see :func:`compose`."""

    from_state: ProjectState
    zero_downtime_rewrite = True
    zero_downtime_renames: tuple[answers.Rename, ...] = ()
    """``makemigrations --rename``: renames answered yes without asking (:mod:`.answers`)."""

    def __init__(self, from_state: Any, to_state: Any, questioner: Any = None) -> None:
        if self.zero_downtime_renames:
            inner = questioner or NonInteractiveMigrationQuestioner()
            questioner = answers.RenameAnswers(inner, list(self.zero_downtime_renames))
        super().__init__(from_state, to_state, questioner)  # type: ignore[call-arg]

    def arrange_for_graph(self, changes: Any, graph: Any, migration_name: Any = None) -> Any:
        questioner = getattr(self, "questioner", None)
        answers.refuse_unused(questioner)
        questioner = getattr(questioner, "inner", questioner)
        asks = not isinstance(questioner, NonInteractiveMigrationQuestioner)
        if self.zero_downtime_rewrite and not asks:
            found = guesses.likely_renames(changes, self.from_state)
            if found:
                raise CommandError(guesses.refusal(found))
        if self.zero_downtime_rewrite:
            changes = rewrite_changes(changes, self.from_state)
        changes = super().arrange_for_graph(changes, graph, migration_name)  # type: ignore[misc]
        lint_new_migrations(changes, self.from_state)
        return changes


def lint_new_migrations(changes: dict[str, list[Migration]], from_state: ProjectState) -> None:
    """Lint the migrations about to be written; store each one's findings on it."""
    from django_zero_downtime.lint.engine import LintConfig, Linter

    by_key = {(m.app_label, m.name): m for app in changes.values() for m in app}
    order = TopologicalSorter(
        {key: [d for d in m.dependencies if d in by_key] for key, m in by_key.items()}
    ).static_order()
    plan = [by_key[key] for key in order]
    try:
        result = Linter(connection, LintConfig.from_settings()).run(
            plan, set(by_key), from_state.clone()
        )
    except Exception:  # a broken new migration: makemigrations reports it its own way
        return
    for migration in plan:
        setattr(migration, FINDINGS, [])
    for finding in result.findings:
        getattr(by_key[(finding.app, finding.migration)], FINDINGS).append(finding)


_COMPOSED: dict[type, type] = {}


def compose(base: type) -> type:
    """``base`` with :class:`ZeroDowntimeAutodetectorMixin` in front (one class per base)."""
    if issubclass(base, ZeroDowntimeAutodetectorMixin):
        return base
    if base not in _COMPOSED:
        mixed = (ZeroDowntimeAutodetectorMixin, base)
        _COMPOSED[base] = type("ZeroDowntimeAutodetector", mixed, {})
    return _COMPOSED[base]
