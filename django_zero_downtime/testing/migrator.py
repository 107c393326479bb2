"""Helpers for users' tests: prove rollback safety and reversibility of migrations for real.

- :func:`exercise_model` / :func:`exercise_models`: insert, select, update and delete rows
  through models, the way code of that release would. Given the *previous* release's
  historical models while the database has the *new* schema, they prove the previous
  release can still take the traffic back.
- :class:`Migrator`: migrate the test database to any set of migrations, give the
  historical models of any state, check old code on the new schema
  (:meth:`Migrator.check_previous_release`) and apply each migration forwards, backwards
  and forwards again with the schema compared exactly (:meth:`Migrator.forwards_backwards`).
- :func:`schema_snapshot`: tables, columns, constraints, indexes and triggers of the
  database, to compare before and after.

The pytest plugin (:mod:`django_zero_downtime.pytest_plugin`) wraps these as fixtures.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable, Mapping
from itertools import count
from typing import Any

from django.apps.registry import Apps
from django.db import DatabaseError, connections, models, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import ProjectState

from django_zero_downtime.bluegreen.previous import Key, nodes_up_to
from django_zero_downtime.testing.snapshots import (
    drop_gate_open,
    schema_snapshot,
)

Values = Mapping[str, Mapping[str, Any]]
"""Per model label (``"people.Person"``), field values to use instead of generated ones."""


class OldCodeBroken(AssertionError):
    """Code of a release could not insert, read, update or delete rows through its models."""


# --- values a release's code would write ------------------------------------------------

_serial = count(1)

INTEGER_MAX = {
    "SmallIntegerField": 2**15 - 1,
    "PositiveSmallIntegerField": 2**15 - 1,
    "IntegerField": 2**31 - 1,
    "PositiveIntegerField": 2**31 - 1,
    "BigIntegerField": 2**63 - 1,
    "PositiveBigIntegerField": 2**63 - 1,
}

SIMPLE_VALUES: dict[str, Any] = {
    "TextField": "text written by the previous release",
    "BooleanField": True,
    "DateField": datetime.date(2024, 2, 29),
    "DateTimeField": datetime.datetime(2024, 2, 29, 12, 30, tzinfo=datetime.UTC),
    "TimeField": datetime.time(12, 30),
    "DurationField": datetime.timedelta(days=1, seconds=1),
    "FloatField": 1.5,
    "JSONField": {"written_by": "previous release"},
    "BinaryField": b"\x00\x01",
    "GenericIPAddressField": "192.0.2.1",
}


def boundary_value(field: models.Field[Any, Any], using: str, values: Values | None = None) -> Any:
    """The widest value the field accepts, so a narrowed column rejects it."""
    kind = field.get_internal_type()
    serial = next(_serial)
    if field.is_relation:
        return _parent_row(field, using, values)
    if kind in INTEGER_MAX:
        return INTEGER_MAX[kind] - serial
    if kind == "DecimalField":
        whole = "9" * ((field.max_digits or 1) - (field.decimal_places or 0))  # type: ignore[attr-defined]
        return decimal.Decimal(f"{whole or 0}.{'9' * (field.decimal_places or 0)}")  # type: ignore[attr-defined]
    if kind == "UUIDField":
        return uuid.uuid4()
    if isinstance(field, models.CharField | models.FileField) and field.max_length:
        return f"{serial}-".ljust(field.max_length, "x")[: field.max_length]
    if not _is_django_field(field):
        return own_value(field, SIMPLE_VALUES.get(kind), using)
    if kind in SIMPLE_VALUES:
        return SIMPLE_VALUES[kind]
    raise OldCodeBroken(_no_value(field, kind))


def _is_django_field(field: Any) -> bool:
    return type(field).__module__.startswith("django.")


def own_value(field: Any, generic: Any, using: str = "default") -> Any:
    """A value built by a third-party field itself (a wagtail ``StreamField`` is stored as
    JSON but accepts only its blocks' shape): its default, else the generic value of its
    storage type, else an empty value, each only if the field's ``to_python`` accepts it."""
    candidates = [field.get_default()] if field.has_default() else []
    candidates += [generic, [], "", {}] if generic is not None else [[], "", {}]
    for candidate in candidates:
        try:
            value = field.to_python(candidate)
            field.get_db_prep_save(value, connection=connections[using])
        except Exception:  # any refusal means: try the next candidate
            continue
        return value
    raise OldCodeBroken(_no_value(field, field.get_internal_type()))


def _no_value(field: Any, kind: str) -> str:
    return (
        f"No value known for {_label(field.model)}.{field.name} ({type(field).__name__}, "
        f'stored as {kind}); pass one with values={{"{_label(field.model)}": '
        f'{{"{field.name}": ...}}}}.'
    )


def _parent_row(field: Any, using: str, values: Values | None) -> Any:
    if field.null:
        return None
    parent = field.related_model
    row = _row(parent, using, values, widest=True)
    return parent._default_manager.using(using).create(**row)


def _writable(model: type[models.Model]) -> list[Any]:
    return [f for f in model._meta.concrete_fields if not (f.primary_key and f.db_returning)]


def _row(model: Any, using: str, values: Values | None, widest: bool) -> dict[str, Any]:
    """Field values for one row: every field at its widest, or only what is required.
    ``values`` apply to every row made, the parents created for foreign keys included."""
    given = dict((values or {}).get(_label(model), {}))
    row = {}
    for field in _writable(model):
        if field.name in given:
            row[field.name] = given[field.name]
        elif widest and not field.has_db_default():
            row[field.name] = boundary_value(field, using, values)
        elif not widest and field.null:
            row[field.name] = None
        elif not (field.has_default() or field.has_db_default()):
            row[field.name] = boundary_value(field, using, values)
    return row


def _label(model: Any) -> str:
    return f"{model._meta.app_label}.{model._meta.object_name}"


# --- insert, select, update, delete -----------------------------------------------------


def exercise_model(
    model: type[models.Model], using: str = "default", values: Values | None = None
) -> int:
    """Insert a widest and a minimal row, read, update and delete them through ``model``.

    Raises :class:`OldCodeBroken` naming the model, the step and the database's error.
    Returns the number of statements that succeeded.
    """
    steps = 0
    for widest in (True, False):
        with _step(model, "insert the widest row" if widest else "insert a minimal row", using):
            obj = model._default_manager.using(using).create(**_row(model, using, values, widest))
        with _step(model, "select it back", using):
            list(model._default_manager.using(using).filter(pk=obj.pk).values())
        with _step(model, "update it", using):
            obj.save(using=using)
        with _step(model, "delete it", using):
            obj.delete(using=using)
        steps += 4
    return steps


class _step:
    """Run one step in a savepoint; turn a database error into :class:`OldCodeBroken`."""

    def __init__(self, model: Any, what: str, using: str) -> None:
        self.model, self.what, self.using = model, what, using
        self.atomic = transaction.atomic(using=using)

    def __enter__(self) -> None:
        self.atomic.__enter__()

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if kind is None:
            error = _check_deferred(self.using)
            kind = type(error) if error else None
        self.atomic.__exit__(kind, error, traceback)
        if isinstance(error, DatabaseError):
            first_line = str(error).strip().splitlines()[0]
            raise OldCodeBroken(f"{_label(self.model)}: {self.what} failed: {first_line}")


def _check_deferred(using: str) -> DatabaseError | None:
    """Check deferred constraints (foreign keys) now, not at a commit that may never come."""
    try:
        connections[using].check_constraints()
    except DatabaseError as error:
        return error
    return None


def exercise_models(
    apps: Apps, app_labels: Iterable[str], using: str = "default", values: Values | None = None
) -> list[str]:
    """:func:`exercise_model` on every concrete model of ``app_labels``; raise one error
    listing every model that broke. Returns the labels of the models exercised."""
    labels = set(app_labels)
    done, broken = [], []
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label in labels and meta.managed and not meta.proxy:
            try:
                exercise_model(model, using, values)
                done.append(_label(model))
            except OldCodeBroken as exc:
                broken.append(str(exc))
    if broken:
        raise OldCodeBroken("The previous release breaks on the new schema:\n" + "\n".join(broken))
    return done


# --- the test database at any migration state -------------------------------------------


def consistent(graph: Any, nodes: set[Key]) -> set[Key]:
    """The members of ``nodes`` whose every dependency (transitively) is in ``nodes``."""
    return {key for key in nodes if set(graph.forwards_plan(key)) <= nodes}


class Migrator:
    """Move the test database between migration states (a scratch database: the test DB).

    Targets are ``{"app_label": "migration_name"}`` (a prefix is enough; ``None`` or
    ``"zero"`` unapplies the app); apps not named stay at their latest migration that does
    not need a later migration of a named app.
    :meth:`reset` returns everything to the latest migrations (the pytest fixture calls it
    at teardown, so the next test finds the schema it expects).

    The deploy-cycle gate of drops (``ZDT_DEPRECATION_CYCLES``) guards production releases;
    on this scratch database migrations run with it open unless ``open_drop_gate=False``.
    """

    def __init__(self, using: str = "default", open_drop_gate: bool = True) -> None:
        self.using = using
        self.open_drop_gate = open_drop_gate

    def _executor(self) -> MigrationExecutor:
        return MigrationExecutor(connections[self.using])

    def _nodes(self, targets: Mapping[str, str | None]) -> set[Key]:
        """The migrations of the state at ``targets``: a consistent set, so another app's
        migration that depends on a later migration of a named app is left out (with it,
        the state would silently include that later migration)."""
        loader = self._executor().loader
        named = {app: name for app, name in targets.items() if name not in (None, "zero")}
        nodes = nodes_up_to(loader, named)
        nodes = {key for key in nodes if targets.get(key[0], "") not in (None, "zero")}
        return consistent(loader.graph, nodes)

    def migrate(self, targets: Mapping[str, str | None] | None = None) -> None:
        """Apply or unapply migrations until the database is at ``targets``."""
        executor = self._executor()
        if targets is None:
            plan: list[tuple[str, str | None]] = list(executor.loader.graph.leaf_nodes())
        else:
            zeroed = [(app, None) for app, name in targets.items() if name in (None, "zero")]
            plan = [*self._app_leaves(self._nodes(targets)), *zeroed]
        with drop_gate_open(self.open_drop_gate):
            executor.migrate(plan)

    def _app_leaves(self, nodes: set[Key]) -> list[tuple[str, str | None]]:
        """Per app, the last of ``nodes`` (the target the executor needs for that app)."""
        graph = self._executor().loader.graph
        return [
            key
            for key in sorted(nodes)
            if not any(c.key in nodes and c.key[0] == key[0] for c in graph.node_map[key].children)
        ]

    def state(self, targets: Mapping[str, str | None] | None = None) -> ProjectState:
        """Migration state at ``targets`` (default: latest), without touching the database."""
        loader = self._executor().loader
        if targets is None:
            return loader.project_state()
        nodes = sorted(self._nodes(targets))
        if not nodes:
            return ProjectState(real_apps=set(loader.unmigrated_apps))
        return loader.graph.make_state(nodes=nodes, at_end=True, real_apps=loader.unmigrated_apps)

    def models(self, targets: Mapping[str, str | None] | None = None) -> Apps:
        """Historical models at ``targets``: what the code of that release sees."""
        return self.state(targets).apps

    def check_previous_release(
        self,
        previous: Mapping[str, str | None],
        new: Mapping[str, str | None] | None = None,
        values: Values | None = None,
    ) -> list[str]:
        """Migrate to ``new`` (default: latest), then CRUD through ``previous``'s models.

        Raises :class:`OldCodeBroken` when the previous release's models cannot insert,
        read, update or delete rows; returns the labels of the models exercised.
        """
        self.migrate(new)
        return exercise_models(self.models(previous), previous.keys(), self.using, values)

    def forwards_backwards(self, app_label: str, migration_name: str) -> None:
        """Apply the migration, unapply it, apply it again; the schema after unapplying must
        equal the schema before applying (exact catalog comparison)."""
        loader = self._executor().loader
        key = (app_label, loader.get_migration_by_prefix(app_label, migration_name).name)
        parents = [p for p in loader.graph.node_map[key].parents if p.key[0] == app_label]
        before = {app_label: parents[0].key[1] if parents else None}
        self.migrate(before)
        expected = schema_snapshot(self.using)
        self.migrate({app_label: key[1]})
        self.migrate(before)
        after = schema_snapshot(self.using)
        if after != expected:
            raise AssertionError(_schema_difference(key, expected, after))
        self.migrate({app_label: key[1]})

    def reset(self) -> None:
        """Back to the latest migrations of every app."""
        self.migrate(None)


def _schema_difference(key: Key, expected: dict[str, Any], after: dict[str, Any]) -> str:
    lines = [f"Unapplying {key[0]}.{key[1]} does not restore the schema:"]
    for name in expected:
        missing = sorted(set(expected[name]) - set(after[name]), key=str)
        extra = sorted(set(after[name]) - set(expected[name]), key=str)
        lines += [f"  {name} missing: {row}" for row in missing]
        lines += [f"  {name} left over: {row}" for row in extra]
    return "\n".join(lines)
