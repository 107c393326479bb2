"""BatchedBackfill: a data migration run in primary-key batches, resumable after a crash."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.migrations.operations.base import OperationCategory
from django.db.migrations.state import ProjectState
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.sql import UpdateQuery

from django_zero_downtime.operations import base
from django_zero_downtime.operations import batches as backfill
from django_zero_downtime.operations.base import PUBLIC_MODULE, REQUIRED
from django_zero_downtime.operations.batch_sql import BatchSql, compose, skippable_dual_writes


class BatchedBackfill(base.ModelOperation):
    """Set ``values`` (field name -> constant or expression) on existing rows, in batches.

    ``BatchedBackfill("Person", {"surname": F("last_name")}, where=Q(surname__isnull=True))``
    runs ``UPDATE .. SET surname = last_name WHERE pk in (batch) AND surname IS NULL`` for
    one batch of ``batch_size`` primary keys per transaction, pausing ``pause_s`` between
    batches (defaults: ``ZDT_BACKFILL_BATCH_SIZE`` / ``ZDT_BACKFILL_PAUSE_S``), only up to
    the highest primary key present when it first started. Progress is kept in the ledger
    under ``key`` (derived from the arguments when not given) so a rerun resumes.
    Needs an ``atomic = False`` migration. Unapplying it changes no data.
    """

    __module__ = PUBLIC_MODULE
    requires_non_atomic_migration = True
    safe_category = "backfill"
    backfills_rows = True
    category = OperationCategory.ALTERATION
    reduces_to_sql = False
    arguments = (
        ("model_name", REQUIRED),
        ("values", REQUIRED),
        ("where", None),
        ("batch_size", None),
        ("pause_s", None),
        ("key", None),
    )

    def __init__(
        self,
        model_name: str,
        values: dict[str, Any],
        where: Q | None = None,
        batch_size: int | None = None,
        pause_s: float | None = None,
        key: str | None = None,
    ) -> None:
        self.model_name = model_name
        self.values = dict(values)
        self.where = where
        self.batch_size = batch_size
        self.pause_s = pause_s
        self.key = key

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Data only: the state does not change."""

    def progress_key(self, app_label: str) -> str:
        if self.key:
            return self.key
        digest = hashlib.sha1(repr((sorted(self.values.items()), self.where)).encode())
        return f"backfill:{app_label}.{self.model_name.lower()}:{digest.hexdigest()[:12]}"

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allowed(schema_editor, model):
            return
        connection = schema_editor.connection
        pk_column = backfill.pk_column(model, self.describe())
        base.refuse_in_atomic_block(schema_editor, app_label, self.describe())
        base.require_ledger(schema_editor, self.describe())
        key = self.progress_key(app_label)
        if base.collecting(schema_editor):
            base.note(schema_editor, f"{self.describe()} (progress key {key!r})")
            return
        table = model._meta.db_table
        label = self.label(model)
        plan = backfill.make_plan(key, table, pk_column, self.batch_size, self.pause_s, label)
        backfill.run_backfill(connection, plan, self.batch_update(model, connection))

    def label(self, model: Any) -> str:
        """Readable: ``shop.Order: set total = F(amount)`` (``where`` appended)."""
        sets = ", ".join(f"{name} = {value!r}" for name, value in self.values.items())
        where = f" where {self.where!r}" if self.where is not None else ""
        return f"{model._meta.label}: set {sets}{where}"

    def batch_update(self, model: Any, connection: Any) -> backfill.Update:
        """The batch UPDATE as one prepared statement (``pk BETWEEN $1 AND $2``); the ORM's
        own ``update()`` per batch when it needs more than one statement (a parent model's
        fields under multi-table inheritance)."""
        manager = model._base_manager.db_manager(connection.alias)
        rows = manager.filter(pk__gte=RawSQL("$1", ()), pk__lte=RawSQL("$2", ()))
        rows = rows if self.where is None else rows.filter(self.where)
        query = rows.query.chain(UpdateQuery)
        query.add_update_values(self.values)
        if not query.related_updates:
            sql, params = query.get_compiler(connection.alias).as_sql()
            columns = [model._meta.get_field(name).column for name in self.values]
            skip = skippable_dual_writes(connection, model._meta.db_table, columns)
            return BatchSql(compose(connection, sql, list(params)), skip)

        def update(cursor: Any, after: Any, upto: Any) -> int:
            batch = manager.filter(pk__lte=upto)
            batch = batch if after is None else batch.filter(pk__gt=after)
            batch = batch if self.where is None else batch.filter(self.where)
            return int(batch.update(**self.values))

        return update

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        """Data is not restored; the progress row is forgotten so a re-apply runs again."""
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allowed(schema_editor, model) and not base.collecting(schema_editor):
            backfill.forget(schema_editor.connection, self.progress_key(app_label))

    def describe(self) -> str:
        return f"Backfill {', '.join(self.values)} on {self.model_name} in batches"

    @property
    def migration_name_fragment(self) -> str:
        fields = "_".join(name.lower() for name in self.values)
        return f"backfill_{self.model_name.lower()}_{fields}"
