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
about this through :class:`Effect` (:data:`OPERATION_EFFECTS`, or a ``zdt_compat_effect()``
method on any operation class).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import import_module
from pathlib import Path
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.exceptions import (
    AmbiguityError,
    BadMigrationError,
    MigrationSchemaMissing,
    NodeNotFoundError,
)
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.operations.special import SeparateDatabaseAndState
from django.db.migrations.state import ProjectState

from django_zero_downtime.bluegreen.schema import Break, Column, Schema, Table, compare_schemas
from django_zero_downtime.bluegreen.schema import schema_of as schema_of
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.findings import locate
from django_zero_downtime.findings.approvals import approval
from django_zero_downtime.findings.catalogue import Violation
from django_zero_downtime.findings.factory import make_finding
from django_zero_downtime.findings.model import Finding
from django_zero_downtime.findings.policy import Policy

Key = tuple[str, str]
Step = tuple[str, Migration]


# --- what an operation does to the database beyond its state change ----------------------


@dataclass(frozen=True)
class Effect:
    """Database effect of an operation that its state change does not show.

    ``kept``: (model_name, field_name) whose column stays in the database although the state
    drops or renames the field (looked up in the from-state). ``kept_tables``: models whose
    table stays usable under its name (a table or an updatable view) although the state
    deletes the model. ``filled``: (model_name, field_name) of the to-state whose column the
    database fills when a write leaves it out (a trigger, or a database default the state
    does not show). ``unfilled``: such columns no longer filled. ``dropped``: (model_name,
    field_name, or "" for the table) of kept columns/tables it finally drops.
    """

    kept: tuple[Key, ...] = ()
    kept_tables: tuple[str, ...] = ()
    filled: tuple[Key, ...] = ()
    unfilled: tuple[Key, ...] = ()
    dropped: tuple[Key, ...] = ()


def _attr(op: Operation, *names: str) -> str:
    for name in names:
        value = getattr(op, name, None)
        if isinstance(value, str):
            return value
    return ""


OPERATION_EFFECTS: dict[str, Callable[[Operation], Effect]] = {
    "AddColumnWithDefault": lambda op: Effect(
        filled=((_attr(op, "model_name"), _attr(op, "name")),)
    ),
    "DualWriteRename": lambda op: Effect(
        kept=((_attr(op, "model_name"), _attr(op, "old_name")),),
        filled=((_attr(op, "model_name"), _attr(op, "new_name")),),
    ),
    "CompleteDualWriteRename": lambda op: Effect(
        dropped=((_attr(op, "model_name"), _attr(op, "old_name")),),
        unfilled=((_attr(op, "model_name"), _attr(op, "new_name")),),
    ),
    "DeprecateColumn": lambda op: Effect(kept=((_attr(op, "model_name"), _attr(op, "name")),)),
    "DropDeprecatedColumn": lambda op: Effect(
        dropped=((_attr(op, "model_name"), _attr(op, "name")),)
    ),
    "DeprecateTable": lambda op: Effect(kept_tables=(_attr(op, "name", "model_name"),)),
    "DropDeprecatedTable": lambda op: Effect(dropped=((_attr(op, "name", "model_name"), ""),)),
}
"""Effects of django-zero-downtime's own operations, by class name. An operation of any
package declares its own by defining a ``zdt_compat_effect(self) -> Effect`` method."""


def effect_of(op: Operation) -> Effect | None:
    declared = getattr(op, "zdt_compat_effect", None)
    if callable(declared):
        result = declared()
        return result if isinstance(result, Effect) else None
    factory = OPERATION_EFFECTS.get(type(op).__name__)
    return factory(op) if factory else None


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
        return schema

    def apply(self, app_label: str, op: Operation) -> None:
        effect = effect_of(op)
        if effect is not None:
            self._keep(app_label, effect)
            self._drop(app_label, effect)
            op.state_forwards(app_label, self.state)
            self._fill(app_label, effect)
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


# --- which migrations the previous release had ------------------------------------------


def applied_nodes(loader: MigrationLoader) -> set[Key]:
    """Migrations applied on the loader's database: the release currently deployed."""
    return {key for key in loader.applied_migrations or {} if key in loader.graph.nodes}


def nodes_up_to(loader: MigrationLoader, migrations: Mapping[str, str]) -> set[Key]:
    """Up to (and including) the named migration of each app; other apps: all migrations."""
    graph, old = loader.graph, set()
    for app_label, name in migrations.items():
        try:
            key = (app_label, loader.get_migration_by_prefix(app_label, name).name)
        except (KeyError, AmbiguityError) as exc:
            raise ZeroDowntimeError(
                f"Previous release {app_label}.{name}: no single migration matches ({exc})."
            ) from None
        old |= set(graph.forwards_plan(key))
    named_apps = set(migrations)
    return old | {key for key in graph.nodes if key[0] not in named_apps}


def nodes_at_git_ref(loader: MigrationLoader, ref: str) -> set[Key]:
    """Migrations whose files exist at git ``ref``; apps not tracked in git count as old."""
    old: set[Key] = set()
    for app_label in sorted(loader.migrated_apps):
        app_nodes = {key for key in loader.graph.nodes if key[0] == app_label}
        names = _migration_files_at(_migrations_dir(app_label), ref)
        old |= app_nodes if names is None else {key for key in app_nodes if key[1] in names}
    return {dep for key in old for dep in loader.graph.forwards_plan(key)}


def _migrations_dir(app_label: str) -> Path:
    module_name, _ = MigrationLoader.migrations_module(app_label)
    module = import_module(str(module_name))
    return Path(module.__file__ or "").parent if module.__file__ else Path(module.__path__[0])


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = ["git", "-C", str(directory), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _migration_files_at(directory: Path, ref: str) -> set[str] | None:
    """Migration names in ``directory`` at ``ref``; None when git does not track it."""
    if not _git(directory, "ls-files", "--", ".").stdout.strip():
        return None
    if _git(directory, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode:
        raise ZeroDowntimeError(
            f"git ref {ref!r} not found in the repository of {directory}. Fetch it (CI clones "
            "are often shallow: `git fetch origin main`) or name another ref."
        )
    listed = _git(directory, "ls-tree", "--name-only", ref, "--", ".").stdout.split()
    return {Path(name).stem for name in listed if name.endswith(".py")}


def plan_after(loader: MigrationLoader, old: set[Key]) -> tuple[ProjectState, list[Step]]:
    """The previous release's state and the new migrations (in order) that follow it."""
    graph, plan, seen = loader.graph, [], set(old)
    for leaf in sorted(graph.leaf_nodes()):
        for key in graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                plan.append((key[0], loader.graph.nodes[key]))
    real_apps = set(loader.unmigrated_apps)
    if not old:
        return ProjectState(real_apps=real_apps), plan
    return graph.make_state(nodes=sorted(old), at_end=True, real_apps=real_apps), plan


def _loader(connection: BaseDatabaseWrapper | None) -> MigrationLoader:
    try:
        return MigrationLoader(connection, ignore_no_migrations=True)
    except (MigrationSchemaMissing, BadMigrationError, NodeNotFoundError, ImportError) as exc:
        raise ZeroDowntimeError(f"Cannot load the migrations: {exc}") from exc
    except DatabaseError as exc:
        alias = connection.alias if connection else "?"
        raise ZeroDowntimeError(
            f"Cannot read the applied migrations on database {alias!r} ({exc}). Pass git_ref= "
            "or migrations= to name the previous release without a database."
        ) from exc


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
    loader = loader or _loader(connection if from_database else None)
    if from_database:
        old = applied_nodes(loader)
    elif git_ref:
        old = nodes_at_git_ref(loader, git_ref)
    else:
        old = nodes_up_to(loader, migrations or {})
    old_state, steps = plan_after(loader, old)
    return find_breaks(old_state, steps, connection)
