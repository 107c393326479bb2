"""The checker's engine: one pass over the migration plan with one evolving project state.

Every migration of the plan moves the state forward; the selected ones are also linted:
each operation is judged by the operation rules against the state before it, ``RunSQL``
and the rendered SQL of unknown operations (see :mod:`collect`) by the SQL rules, and the
migration as a whole by the transaction rules. The state is kept unrendered (model states
only), which is what makes a whole history cheap to walk. Verdicts become
:class:`Finding` objects after the ``ZDT_RULES_*`` settings and suppressions are applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import migrations
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from django_zero_downtime import conf
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.findings import locate
from django_zero_downtime.findings.approvals import Suppressions, read_suppressions
from django_zero_downtime.findings.catalogue import RULES, Violation
from django_zero_downtime.findings.factory import make_finding
from django_zero_downtime.findings.model import Finding
from django_zero_downtime.findings.policy import Policy
from django_zero_downtime.lint import facts, op_facts
from django_zero_downtime.lint.collect import NeedsDatabase, SqlCollector, Uncollected
from django_zero_downtime.lint.context import OperationContext, is_safe_operation
from django_zero_downtime.lint.rules import operations as operation_rules
from django_zero_downtime.lint.rules import sql as sql_rules
from django_zero_downtime.lint.rules.sql import SqlScope
from django_zero_downtime.lint.rules.transactions import (
    INDEX_OPERATIONS,
    TransactionTracker,
    schema_table,
)
from django_zero_downtime.sql.state import Schema

Key = tuple[str, str]


class LintError(ZeroDowntimeError):
    """A migration the checker cannot follow (it does not fit the migrations before it)."""


LintConfig = Policy
"""The checker's name for the one rule policy (``ZDT_RULES_*``)."""


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    linted: list[Key] = field(default_factory=list)
    uncollected: list[Uncollected] = field(default_factory=list)
    suppressed: int = 0
    notes: list[str] = field(default_factory=list)
    sql: dict[Key, list[str]] = field(default_factory=dict)
    """Rendered statements per linted migration (only with ``Linter(keep_sql=True)``)."""

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.is_error]


@dataclass
class _MigrationRun:
    migration: Migration
    scope: SqlScope
    tracker: TransactionTracker
    raw: list[tuple[int | None, str, Violation]] = field(default_factory=list)


class Linter:
    """Lints the selected migrations of a plan; ``collector=None`` = operation rules only."""

    def __init__(
        self,
        connection: BaseDatabaseWrapper,
        config: LintConfig | None = None,
        collector: SqlCollector | None = None,
        keep_sql: bool = False,
        render_all: bool = False,
        postgres_version: int | None = None,
    ) -> None:
        self.connection = connection
        self.view = op_facts.StateView(connection)
        version = postgres_version or conf.get_settings().POSTGRES_VERSION
        self.schema = Schema(version=version, columns=self.view.lookup())
        self.keep_sql = keep_sql
        self.render_all = render_all
        self.config = config or LintConfig()
        self.collector = collector
        self.result = LintResult()

    def run(
        self, plan: Iterable[Migration], selected: set[Key], state: ProjectState | None = None
    ) -> LintResult:
        state = state if state is not None else ProjectState()
        self.view.state = state
        for migration in plan:
            key = (migration.app_label, migration.name)
            if key in selected:
                self._render_once(state)
                self._lint_migration(migration, state)
                self.result.linted.append(key)
            else:
                self._walk(migration, state)
        return self.result

    def _walk(self, migration: Migration, state: ProjectState) -> None:
        """Move past a migration that is not linted, keeping what it establishes."""
        self.schema.start_migration()
        for index, operation in enumerate(migration.operations):
            self._observe(migration, operation, sql=True)
            _forward(migration, index, operation, state)
            if not migration.atomic:
                self.schema.end_transaction()
        self.schema.end_transaction()

    def _observe(self, migration: Migration, operation: Operation, sql: bool) -> None:
        try:
            op_facts.observe(self.schema, self.view, migration.app_label, operation, sql)
        except Exception as exc:  # SQL or a state the classification cannot read: say so
            self.result.notes.append(
                f"{migration.app_label}.{migration.name}: {type(operation).__name__} could not "
                f"be followed ({type(exc).__name__}: {exc}); later verdicts may miss it."
            )

    def _render_once(self, state: ProjectState) -> None:
        """With ``render_all``: render the models once; each clone then copies them."""
        if not self.render_all or self.collector is None or "apps" in state.__dict__:
            return
        try:
            state.apps  # noqa: B018 - rendering is the point
        except Exception as exc:  # models that cannot be rendered: no SQL for this run
            self.collector = None
            self.result.notes.append(
                f"SQL was not rendered ({type(exc).__name__}: {exc}); "
                "only operation and transaction rules ran."
            )

    def _lint_migration(self, migration: Migration, state: ProjectState) -> None:
        self.schema.start_migration()
        scope = SqlScope(atomic=migration.atomic, schema=self.schema, names=self.view.names)
        run = _MigrationRun(migration, scope, TransactionTracker(migration.atomic))
        for index, operation in enumerate(migration.operations):
            self._lint_operation(run, index, operation, state)
            if not migration.atomic:
                self._commit(run)
        self._commit(run)
        run.raw += [(i, _name(migration, i), v) for i, v in run.tracker.finish()]
        run.raw += [(None, "", v) for v in sql_rules.multiple_alter_violations(run.scope)]
        self._report(run, read_suppressions(migration))

    def _commit(self, run: _MigrationRun) -> None:
        """A commit: defaults dropped in the transaction and never restored break old inserts."""
        for index, violation in sql_rules.transaction_end(run.scope):
            run.raw.append((index, _name(run.migration, index), violation))

    def _lint_operation(
        self, run: _MigrationRun, index: int, operation: Operation, state: ProjectState
    ) -> None:
        app_label = run.migration.app_label
        ctx = OperationContext(
            app_label, operation, state, self.connection, run.migration.atomic,
            run.scope.new_tables, schema=self.schema, index=index,
        )  # fmt: skip
        found = self._judge_operation(run, index, ctx)
        self.schema.origin = index
        self._observe(run.migration, operation, sql=False)
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            database_state = state.clone()
            for inner in operation.database_operations:
                self._lint_operation(run, index, inner, database_state)
        run.scope.start_operation(index)
        statements = self._advance(run, index, operation, state)
        if self.keep_sql and statements:
            key = (run.migration.app_label, run.migration.name)
            self.result.sql.setdefault(key, []).extend(statements)
        found += self._judge_sql(run, index, operation, statements)
        name = type(operation).__name__
        run.tracker.observe_sql(index, name, run.scope.has_dml, run.scope.ddl_table)
        _remember_new_tables(ctx, operation, state, run.scope)
        run.raw += [(index, name, violation) for violation in found]

    def _judge_operation(
        self, run: _MigrationRun, index: int, ctx: OperationContext
    ) -> list[Violation]:
        """Operation and transaction rules; a rule's own failure is reported, not raised."""
        try:
            table = schema_table(ctx)
            if table and _alters_table(ctx.operation):
                run.scope.alter_counts[table] += 1  # each such operation runs an ALTER TABLE
            return operation_rules.check_operation(ctx) + run.tracker.observe(index, ctx, table)
        except Exception as exc:
            self.result.notes.append(
                f"{run.migration.app_label}.{run.migration.name}, operation {index} "
                f"({type(ctx.operation).__name__}) could not be judged by the operation rules "
                f"({type(exc).__name__}: {exc}); please report this to django-zero-downtime."
            )
            return []

    def _advance(
        self, run: _MigrationRun, index: int, operation: Operation, state: ProjectState
    ) -> list[str] | None:
        """Move ``state`` past ``operation``; return its SQL when the SQL is wanted."""
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            _forward(run.migration, index, operation, state)  # its database part: see above
            return None
        if isinstance(operation, migrations.RunSQL):
            _forward(run.migration, index, operation, state)
            return _raw_sql(operation)
        if not self._wants_sql(operation):
            _forward(run.migration, index, operation, state)
            return None
        from_state = state.clone()
        _forward(run.migration, index, operation, state)
        return self._render(run, index, operation, from_state, state)

    def _wants_sql(self, operation: Operation) -> bool:
        """Render SQL the SQL rules judge (unknown operations), or all with ``render_all``."""
        if self.collector is None or not operation.reduces_to_sql:
            return False
        return self.render_all or not operation_rules.is_known(operation)

    def _render(
        self,
        run: _MigrationRun,
        index: int,
        operation: Operation,
        from_state: ProjectState,
        state: ProjectState,
    ) -> list[str] | None:
        assert self.collector is not None
        app_label = run.migration.app_label
        try:
            if not self.render_all:  # a detached rendered copy; the main state stays cheap
                from_state.apps  # noqa: B018 - rendering is the point
                state = from_state.clone()
                operation.state_forwards(app_label, state)
            return self.collector.render(app_label, operation, from_state, state)
        except NeedsDatabase as exc:
            self._uncollected(run, index, operation, str(exc))
        except Exception as exc:  # a third-party operation failing to render offline
            self._uncollected(run, index, operation, f"{type(exc).__name__}: {exc}")
        return None

    def _uncollected(
        self, run: _MigrationRun, index: int, operation: Operation, reason: str
    ) -> None:
        migration = run.migration
        self.result.uncollected.append(
            Uncollected(
                migration.app_label, migration.name, index, type(operation).__name__, reason
            )
        )

    def _judge_sql(
        self, run: _MigrationRun, index: int, operation: Operation, statements: list[str] | None
    ) -> list[Violation]:
        judged = isinstance(operation, migrations.RunSQL) or not operation_rules.is_known(operation)
        if not statements or not judged:
            return []
        try:
            return sql_rules.check_statements(statements, run.scope)
        except Exception as exc:  # SQL the parser cannot read: say so, never crash
            self.result.notes.append(
                f"{run.migration.app_label}.{run.migration.name}, operation {index} "
                f"({type(operation).__name__}): its SQL could not be parsed "
                f"({type(exc).__name__}: {exc}); review it by hand."
            )
            return []

    def _report(self, run: _MigrationRun, suppressions: Suppressions) -> None:
        migration = run.migration
        raw = sorted(
            run.raw + [(i, _name(migration, i), v) for i, v in suppressions.problems],
            key=lambda item: -1 if item[0] is None else item[0],
        )
        kept = [item for item in raw if self._kept(item[2], item[0], suppressions)]
        kept += [
            (index, _name(migration, index), _unused(code))
            for index, code in suppressions.unused()
            if self.config.severity_of(code) is not None
        ]
        for index, operation, violation in kept:
            severity = self.config.severity_of(violation.code)
            if severity is not None:
                self.result.findings.append(
                    _finding(migration, index, operation, violation, severity)
                )

    def _kept(self, violation: Violation, index: int | None, suppressions: Suppressions) -> bool:
        """False when the rule is off, or suppressed here (then counted)."""
        if self.config.severity_of(violation.code) is None:
            return False
        if violation.code in SUPPRESSION_RULES or not suppressions.matches(violation.code, index):
            return True
        self.result.suppressed += 1
        return False


SUPPRESSION_RULES = ("ZDT191", "ZDT192")
"""Rules about suppressions, which cannot themselves be suppressed."""


def _unused(code: str) -> Violation:
    return Violation(
        "ZDT192",
        f"The suppression of {code} ({RULES[code].name}) suppresses nothing here.",
        "Remove it.",
    )


def _alters_table(operation: Operation) -> bool:
    """Whether a Django operation runs an ALTER TABLE (index and many-to-many ones do not;
    this project's operations are left out: they take their locks one short step at a time)."""
    if isinstance(operation, INDEX_OPERATIONS) or is_safe_operation(operation):
        return False
    return not getattr(getattr(operation, "field", None), "many_to_many", False)


def _name(migration: Migration, index: int | None) -> str:
    return "" if index is None else type(migration.operations[index]).__name__


def _finding(
    migration: Migration, index: int | None, operation: str, violation: Violation, severity: Any
) -> Finding:
    where = locate.of_migration(migration, index, operation)
    finding = make_finding(violation, where, severity=severity)
    assert finding is not None  # a severity was given
    return finding


def _forward(migration: Migration, index: int, operation: Operation, state: ProjectState) -> None:
    try:
        operation.state_forwards(migration.app_label, state)
    except Exception as exc:
        raise LintError(
            f"{migration.app_label}.{migration.name}, operation {index} "
            f"({type(operation).__name__}): cannot be applied to the project state built from "
            f"the migrations before it ({type(exc).__name__}: {exc}). Fix the operation or the "
            f"migration's dependencies ({locate.migration_file(migration)})."
        ) from exc


def _raw_sql(operation: Operation) -> list[str] | None:
    """``RunSQL``'s own statements, for when nothing was rendered."""
    if not isinstance(operation, migrations.RunSQL):
        return None
    sql: Any = operation.sql
    if isinstance(sql, str):
        return [sql]
    return [item[0] if isinstance(item, list | tuple) else item for item in sql]


def _remember_new_tables(
    ctx: OperationContext, operation: Operation, state: ProjectState, scope: SqlScope
) -> None:
    if not isinstance(operation, migrations.CreateModel):
        return
    model_state = facts.get_model_state(state, ctx.app_label, operation.name)
    if model_state is None or not facts.has_table(model_state):
        return
    scope.new_tables.add(facts.table_name(model_state, ctx.connection))
    for name, field_ in model_state.fields.items():
        if field_.many_to_many:
            through = facts.through_table_name(model_state, name, field_, ctx.connection)
            if through:
                scope.new_tables.add(through)
