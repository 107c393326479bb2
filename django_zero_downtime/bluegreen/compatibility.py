"""Blue/green compatibility: do the previous release's models still work on the new schema?

:func:`check_compatibility` takes the migration state of the release currently deployed
(the migrations applied on the target database, those present at a git ref, or up to named
migrations), replays the new migrations operation by operation and compares, column by
column, the schema the previous release's models read and write with the schema the
database has after each migration (:func:`.compat_rules.compare_schemas`). Every finding
names the model, the field, and the migration and operation that break it. Changes inside
one atomic migration are judged at its end (no other session sees them earlier); in a
non-atomic migration after every operation.

The comparison is at database level, not by field name, so expand/contract passes: an
operation may take a field out of the migration *state* while its column stays in the
*database* (``SeparateDatabaseAndState``, ``DeprecateColumn``, the expand step of
``DualWriteRename``). Such columns stay in the compared schema as "kept" columns, and
columns a dual-write trigger fills count as having a default. Operations tell the check
about this through :class:`Effect`, returned by a ``zdt_compat_effect()`` method on the
operation class (this project's operations all declare theirs; any package's may).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.operations.special import SeparateDatabaseAndState
from django.db.migrations.state import ProjectState

from django_zero_downtime import traits
from django_zero_downtime.bluegreen import mirrors
from django_zero_downtime.bluegreen.previous import (
    Key,
    Step,
    applied_nodes,
    load_migrations,
    nodes_at_git_ref,
    nodes_up_to,
    plan_after,
)
from django_zero_downtime.bluegreen.schema import Break, Column, Schema, Table, compare_schemas
from django_zero_downtime.bluegreen.schema import schema_of as schema_of
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.findings import locate
from django_zero_downtime.findings.approvals import approval
from django_zero_downtime.findings.catalogue import Violation
from django_zero_downtime.findings.factory import make_finding
from django_zero_downtime.findings.model import Finding
from django_zero_downtime.findings.policy import Policy

# --- what an operation does to the database beyond its state change ----------------------


Effect = traits.Effect
"""Re-exported from :mod:`django_zero_downtime.traits` (operations return it)."""


def effect_of(op: Operation) -> Effect | None:
    return traits.schema_effect(op)


# --- the database as the new migrations leave it ----------------------------------------


class DatabaseTrack:
    """The new migrations' state plus the columns and tables they keep in the database."""

    def __init__(self, state: ProjectState, connection: BaseDatabaseWrapper) -> None:
        self.state = state
        self.connection = connection
        self.cache: dict[Any, Table] = {}
        self.kept: dict[tuple[str, str], Column] = {}
        self.kept_tables: dict[str, Table] = {}
        self.filled: set[tuple[str, str]] = set()
        self.mirrors: dict[str, list[mirrors.Mirror]] = {}

    def schema(self) -> Schema:
        schema = schema_of(self.state, self.connection, self.cache)
        for table_name, table in self.kept_tables.items():
            schema.setdefault(table_name, table)
        for (table_name, column_name), column in self.kept.items():
            if table_name in schema:
                schema[table_name].columns.setdefault(column_name, column)
        for table_name, column_name in self.filled:
            columns = schema[table_name].columns if table_name in schema else {}
            if column_name in columns:
                columns[column_name] = replace(columns[column_name], filled=True)
        for table_name, mirrored in self.mirrors.items():
            if table_name in schema:
                model = self._model_of(schema[table_name].model)
                schema[table_name] = mirrors.as_mirrored(schema[table_name], model, mirrored)
        return schema

    def _model_of(self, label: str) -> Any:
        try:
            return self.state.apps.get_model(label)
        except LookupError:
            return None

    def apply(self, app_label: str, op: Operation) -> None:
        if getattr(op, "zero_downtime_state_only", False):
            return  # the model state only; its contract migration changes the database
        effect = effect_of(op)
        if effect is not None:
            self._keep(app_label, effect)
            self._drop(app_label, effect)
            olds = [self._locate(app_label, m, old) for m, old, _ in effect.mirrored]
            op.state_forwards(app_label, self.state)
            self._fill(app_label, effect)
            self._mirror(app_label, effect, olds)
        elif isinstance(op, SeparateDatabaseAndState):
            self._apply_separate(app_label, op)
        else:
            op.state_forwards(app_label, self.state)

    def _locate(self, app_label: str, model_name: str, field_name: str) -> Key | None:
        try:
            meta = self.state.apps.get_model(app_label, model_name)._meta
            return meta.db_table, meta.get_field(field_name).column if field_name else ""
        except (LookupError, FieldDoesNotExist):
            return None

    def _keep(self, app_label: str, effect: Effect) -> None:
        schema = schema_of(self.state, self.connection, self.cache)
        for model_name, field_name in effect.kept:
            place = self._locate(app_label, model_name, field_name)
            if place and place[0] in schema and place[1] in schema[place[0]].columns:
                self.kept[place] = schema[place[0]].columns[place[1]]
        for model_name in effect.kept_tables:
            place = self._locate(app_label, model_name, "")
            if place and place[0] in schema:
                self.kept_tables[place[0]] = schema[place[0]]

    def _drop(self, app_label: str, effect: Effect) -> None:
        for model_name, field_name in effect.dropped:
            tables = self._tables_of(app_label, model_name)
            for table_name, column_name in list(self.kept):
                column = self.kept[(table_name, column_name)]
                if table_name in tables and field_name in ("", column.field, column_name):
                    del self.kept[(table_name, column_name)]
            if not field_name:
                for table_name in tables:
                    self.kept_tables.pop(table_name, None)

    def _tables_of(self, app_label: str, model_name: str) -> set[str]:
        place = self._locate(app_label, model_name, "")
        label = f"{app_label}.{model_name}".lower()
        kept = {name for name, table in self.kept_tables.items() if table.model.lower() == label}
        return kept | ({place[0]} if place else set())

    def _fill(self, app_label: str, effect: Effect) -> None:
        for model_name, field_name in effect.filled:
            place = self._locate(app_label, model_name, field_name)
            if place:
                self.filled.add(place)
        for model_name, field_name in effect.unfilled:
            place = self._locate(app_label, model_name, field_name)
            if place:
                self.filled.discard(place)

    def _mirror(self, app_label: str, effect: Effect, olds: list[Key | None]) -> None:
        for (model_name, old, new), before in zip(effect.mirrored, olds, strict=True):
            after = self._locate(app_label, model_name, new)
            if before and after:
                mirror = mirrors.Mirror(old, new, before[1], after[1])
                self.mirrors.setdefault(after[0], []).append(mirror)
        for model_name, _ in effect.unfilled:  # the contract: the old column goes
            for table_name in self._tables_of(app_label, model_name):
                self.mirrors.pop(table_name, None)

    def _apply_separate(self, app_label: str, op: SeparateDatabaseAndState) -> None:
        database = self.state.clone()
        for inner in op.database_operations:
            inner.state_forwards(app_label, database)
        for inner in op.state_operations:
            inner.state_forwards(app_label, self.state)
        in_database = schema_of(database, self.connection, self.cache)
        in_state = schema_of(self.state, self.connection, self.cache)
        for table_name, table in in_database.items():
            if table_name not in in_state:
                self.kept_tables[table_name] = table
                continue
            for column_name, column in table.columns.items():
                if column_name not in in_state[table_name].columns:
                    self.kept[(table_name, column_name)] = column


# --- replaying the new migrations -------------------------------------------------------


def find_breaks(
    old_state: ProjectState, steps: Iterable[Step], connection: BaseDatabaseWrapper
) -> list[Finding]:
    """Findings for every break of ``old_state``'s models while ``steps`` are applied.

    ``steps`` are the new migrations in the order they run, as (app_label, Migration).
    """
    connection = connections[connection.alias]  # not the slower ``django.db.connection`` proxy
    old = schema_of(old_state, connection)
    track = DatabaseTrack(old_state.clone(), connection)
    reported: set[tuple[str, str, str]] = set()
    findings: list[Finding] = []
    for app_label, migration in steps:
        first: dict[tuple[str, str, str], int] = {}
        breaks: list[Break] = []
        for index, op in enumerate(migration.operations):
            _replay(track, app_label, migration, index, op)
            breaks = compare_schemas(old, track.schema())
            for found in breaks:
                first.setdefault(found.key, index)
            if not migration.atomic:
                findings += _report(breaks, reported, migration, first)
        findings += _report(breaks, reported, migration, first)
    return findings


def _replay(
    track: DatabaseTrack, app_label: str, migration: Migration, index: int, op: Operation
) -> None:
    try:
        track.apply(app_label, op)
    except Exception as exc:
        raise ZeroDowntimeError(
            f"{app_label}.{migration.name}, operation {index} ({type(op).__name__}): its state "
            f"change cannot be replayed for the compatibility check ({exc}). Fix the operation "
            "or approve the migration after checking it by hand."
        ) from exc


def _report(
    breaks: list[Break], reported: set[tuple[str, str, str]], migration: Migration,
    first: dict[tuple[str, str, str], int],
) -> list[Finding]:  # fmt: skip
    findings = []
    for found in breaks:
        if found.key not in reported:
            reported.add(found.key)
            findings += _finding(found, migration, first.get(found.key))
    return findings


def _finding(found: Break, migration: Migration, index: int | None) -> list[Finding]:
    """The finding of one break (none when ZDT_RULES_* switch it off); an approval on the
    migration or on the breaking operation makes it a warning."""
    message = f"{found.message} Broken by {migration.app_label}.{migration.name}."
    finding = make_finding(
        Violation(found.rule, message, found.hint),
        locate.of_migration(migration, index),
        policy=Policy.from_settings(),
        approval=approval(migration, found.rule, index),
    )
    return [finding] if finding is not None else []


def check_compatibility(
    *,
    database: str = "default",
    git_ref: str | None = None,
    migrations: Mapping[str, str] | None = None,
    loader: MigrationLoader | None = None,
) -> list[Finding]:
    """Prove that the previous release's models work on the schema after the new migrations.

    The previous release is, in order of precedence: the migrations present at ``git_ref``
    (CI; no database needed), the migrations up to ``migrations`` (``{"app": "0004_x"}``;
    other apps count as fully deployed), else the migrations applied on ``database``.
    Returns one :class:`Finding` (ZDT5xx) per break, after ZDT_RULES_SELECT / _IGNORE /
    _SEVERITY; an empty list means compatible.
    """
    if database not in connections:
        raise ZeroDowntimeError(f"Database alias {database!r} is not in DATABASES.")
    connection = connections[database]
    from_database = git_ref is None and migrations is None
    loader = loader or load_migrations(connection if from_database else None)
    if from_database:
        old = applied_nodes(loader)
    elif git_ref:
        old = nodes_at_git_ref(loader, git_ref)
    else:
        old = nodes_up_to(loader, migrations or {})
    old_state, steps = plan_after(loader, old)
    return find_breaks(old_state, steps, connection)
