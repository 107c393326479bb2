"""Operation rules (ZDT1xx) for indexes and constraints declared at model level."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.constraints import ExclusionConstraint
from django.db import migrations
from django.db.migrations.state import ProjectState
from django.db.models import CheckConstraint, UniqueConstraint

from django_zero_downtime.findings.catalogue import Violation
from django_zero_downtime.lint import facts
from django_zero_downtime.lint.context import OperationContext
from django_zero_downtime.lint.rules import hints
from django_zero_downtime.lint.rules.operations import checks


def _columns(ctx: OperationContext, model_state: Any, names: Any) -> str:
    out = []
    for name in names:
        field = model_state.fields.get(name)
        column = facts.bound(name, field).column if field is not None else name
        out.append(f'"{column}"')
    return ", ".join(out)


def _together(value: Any) -> set[tuple[str, ...]]:
    return {tuple(item) for item in (value or ())}


def _added_together(ctx: OperationContext, option: str) -> tuple[Any, str, set] | None:
    """(model state, table, field tuples the operation adds to ``option``) for a table that
    existed before this migration; None for a new table (safe: it is empty)."""
    op: Any = ctx.operation
    found = ctx.existing_table(op.name)
    if found is None:
        return None
    model_state, table = found
    return (
        model_state,
        table,
        _together(op.option_value) - _together(model_state.options.get(option)),
    )


@checks(migrations.AlterUniqueTogether)
def alter_unique_together(ctx: OperationContext) -> list[Violation]:
    found = _added_together(ctx, "unique_together")
    if found is None:
        return []
    model_state, table, added = found
    return [
        Violation(
            "ZDT110",
            f"AlterUniqueTogether {ctx.app_label}.{model_state.name}: the unique constraint on "
            f"{', '.join(fields)} is built under ACCESS EXCLUSIVE, blocking reads and writes.",
            hints.add_unique(
                table,
                _columns(ctx, model_state, fields),
                hints._name(table, "_".join(fields), "uniq"),
            ),
        )
        for fields in sorted(added)
    ]


@checks(migrations.AlterIndexTogether)
def alter_index_together(ctx: OperationContext) -> list[Violation]:
    found = _added_together(ctx, "index_together")
    if found is None:
        return []
    model_state, table, added = found
    return [
        Violation(
            "ZDT109",
            f"AlterIndexTogether {ctx.app_label}.{model_state.name}: the index on "
            f"{', '.join(fields)} is built with CREATE INDEX, which blocks writes.",
            hints.create_index(
                model_state.name,
                f"models.Index(fields={list(fields)!r}, "
                f'name="{hints.index_name(table, "_".join(fields))}")',
            ),
        )
        for fields in sorted(added)
    ]


@checks(migrations.AddIndex)
def add_index(ctx: OperationContext) -> list[Violation]:
    op: Any = ctx.operation
    found = ctx.existing_table(op.model_name)
    if found is None:
        return []
    model_state, table = found
    return [
        Violation(
            "ZDT109",
            f"AddIndex {ctx.app_label}.{model_state.name}: the index {op.index.name} on "
            f'"{table}" is built with CREATE INDEX, which blocks writes for the whole build.',
            hints.create_index(model_state.name, hints.code(op.index)),
        )
    ]


@checks(migrations.RemoveIndex)
def remove_index(ctx: OperationContext) -> list[Violation]:
    op: Any = ctx.operation
    found = ctx.existing_table(op.model_name)
    if found is None:
        return []
    model_state, table = found
    return [
        Violation(
            "ZDT113",
            f"RemoveIndex {ctx.app_label}.{model_state.name}: DROP INDEX {op.name} waits for "
            f'ACCESS EXCLUSIVE on "{table}" and queues every query behind it.',
            hints.drop_index(model_state.name, op.name),
        )
    ]


@checks(migrations.AddConstraint)
def add_constraint(ctx: OperationContext) -> list[Violation]:
    op: Any = ctx.operation
    found = ctx.existing_table(op.model_name)
    if found is None:
        return []
    model_state, table = found
    constraint = op.constraint
    where = f"AddConstraint {ctx.app_label}.{model_state.name}"
    if isinstance(constraint, CheckConstraint):
        return [
            Violation(
                "ZDT112",
                f'{where}: CHECK {constraint.name} scans "{table}" under ACCESS EXCLUSIVE.',
                hints.add_check(model_state.name, hints.code(constraint), constraint.name),
            )
        ]
    if isinstance(constraint, UniqueConstraint | ExclusionConstraint):
        return [
            Violation(
                "ZDT110",
                f'{where}: {constraint.name} builds its index on "{table}" while the table '
                "is locked.",
                _unique_hint(ctx, model_state, table, constraint),
            )
        ]
    return []


def _unique_hint(ctx: OperationContext, model_state: Any, table: str, constraint: Any) -> str:
    if isinstance(constraint, ExclusionConstraint):
        return hints.NO_ONLINE_EXCLUSION
    sql = _django_sql(ctx, model_state, constraint)
    if sql and sql.startswith("CREATE UNIQUE INDEX"):
        return hints.add_unique_index(
            model_state.name, sql, constraint.name, hints.code(constraint)
        )
    columns = _columns(ctx, model_state, constraint.fields or ()) or "..."
    deferrable = ""
    if sql and " DEFERRABLE" in sql:
        deferrable = " DEFERRABLE" + sql.split(" DEFERRABLE", 1)[1]
    return hints.add_unique(table, columns, constraint.name, deferrable)


def _django_sql(ctx: OperationContext, model_state: Any, constraint: Any) -> str | None:
    """The SQL Django runs for ``constraint`` (rendered offline on a copy of the state), so
    the hint keeps its condition, include, opclasses and deferrable exactly."""
    from django_zero_downtime.lint.collect import SqlCollector

    try:
        model = _render_alone(ctx.state, ctx.app_label, model_state.name)
        editor_class = SqlCollector(ctx.connection).editor_class
        editor = editor_class(ctx.connection, collect_sql=True, atomic=False)
        return str(constraint.create_sql(model, editor))
    except Exception:  # a model the state cannot render offline: the generic hint
        return None


def _render_alone(state: ProjectState, app_label: str, name: str) -> Any:
    """The model rendered beside only the models it points to, those stripped of their own
    relations (a render of the whole project per hint is most of a long history's lint
    time); the whole project if that does not render."""
    start = (app_label, name.lower())
    models = {start: state.models[start].clone()}
    todo = _targets(models[start], app_label)
    while todo:
        key = todo.pop()
        if key not in models and key in state.models:
            models[key] = _stripped(state.models[key])
            todo += _targets(models[key], key[0])
    try:
        return ProjectState(models, state.real_apps).apps.get_model(app_label, name)
    except Exception:  # a relation the subset does not resolve (e.g. an unusual base)
        return state.clone().apps.get_model(app_label, name)


STRIPPED_OPTIONS = ("indexes", "constraints", "unique_together", "order_with_respect_to")


def _stripped(model_state: Any) -> Any:
    """A related model as far as a relation to it needs: its own columns and bases."""
    clone = model_state.clone()
    clone.fields = {n: f for n, f in clone.fields.items() if not f.is_relation}
    clone.options = {k: v for k, v in clone.options.items() if k not in STRIPPED_OPTIONS}
    return clone


def _targets(model_state: Any, app_label: str) -> list[tuple[str, str]]:
    """The models ``model_state`` points to: relations, their ``through``, string bases."""
    relations = [f for f in model_state.fields.values() if f.is_relation]
    targets = [f.related_model for f in relations]
    targets += [getattr(f.remote_field, "through", None) for f in relations]
    targets += [b for b in model_state.bases if isinstance(b, str)]
    return [_key(target, app_label) for target in targets if target and target != "self"]


def _key(target: Any, app_label: str) -> tuple[str, str]:
    if not isinstance(target, str):
        return target._meta.app_label, target._meta.model_name
    label, _, name = target.rpartition(".")
    return (label or app_label), name.lower()
