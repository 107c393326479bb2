"""Under sqlmigrate (a collecting schema editor) operations emit SQL and change nothing."""

from __future__ import annotations

import pytest
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations.base import Operation
from django.db.models import F
from django.test import override_settings

from django_zero_downtime.exceptions import RefusedByRule
from django_zero_downtime.models import BackfillProgress, Deprecation
from django_zero_downtime.operations import (
    AddColumnWithDefault,
    BatchedBackfill,
    CompleteDualWriteRename,
    DeprecateColumn,
    DeprecateTable,
    DropDeprecatedColumn,
    DropDeprecatedTable,
    DualWriteRename,
)
from tests.operations.conftest import APP, Lab, person_fields

TABLE = "zdtlab_person"

CASES = [
    (
        AddColumnWithDefault("Person", "nick", models.CharField(max_length=5, default="x")),
        "ADD COLUMN",
    ),
    (DualWriteRename("Person", "last_name", "surname"), "CREATE TRIGGER zdt_dw_"),
    (DeprecateColumn("Person", "last_name"), "DROP NOT NULL"),
    (DropDeprecatedColumn("Person", "last_name"), 'DROP COLUMN IF EXISTS "last_name"'),
    (DeprecateTable("Person"), "CREATE VIEW"),
    (DropDeprecatedTable("Person"), "DROP TABLE IF EXISTS"),
    (BatchedBackfill("Person", {"first_name": F("last_name")}), "Backfill first_name"),
]


def snapshot(lab: Lab) -> object:
    columns = lab.sql(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'zdtlab_person'::regclass "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
    )
    return columns, lab.sql("SELECT * FROM zdtlab_person ORDER BY id")


def collect(lab: Lab, operation: Operation, atomic: bool = False) -> list[str]:
    new_state = lab.state.clone()
    operation.state_forwards(APP, new_state)
    with connection.schema_editor(collect_sql=True, atomic=atomic) as editor:
        operation.database_forwards(APP, editor, lab.state, new_state)
    return list(editor.collected_sql)


@pytest.mark.parametrize(("operation", "expected"), CASES, ids=lambda c: type(c).__name__)
@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_collecting_sql_changes_nothing(lab: Lab, operation: Operation, expected: str) -> None:
    Person = lab.create("Person", person_fields())
    Person.objects.create(first_name="a", last_name="b")
    Deprecation.objects.create(
        kind="column", table=TABLE, column="last_name", deprecated_in_cycle=0
    )
    Deprecation.objects.create(kind="table", table=TABLE, deprecated_in_cycle=0)
    ledger = list(Deprecation.objects.values_list("pk", "dropped_at"))
    before = snapshot(lab)
    collected = collect(lab, operation, atomic=True)
    assert any(expected in sql for sql in collected), collected
    assert snapshot(lab) == before
    assert list(Deprecation.objects.values_list("pk", "dropped_at")) == ledger
    assert not BackfillProgress.objects.exists()


def test_collecting_a_drop_judges_the_gate_when_the_ledger_is_there(lab: Lab) -> None:
    """``safemigrate --plan`` shows the refusal before anything runs."""
    lab.create("Person", person_fields())
    Deprecation.objects.create(
        kind="column", table=TABLE, column="last_name", deprecated_in_cycle=0
    )
    with pytest.raises(RefusedByRule, match="3 more releases"):
        collect(lab, DropDeprecatedColumn("Person", "last_name"))


def test_collecting_without_a_ledger_notes_the_gate(lab: Lab) -> None:
    lab.create("Person", person_fields())
    executor = MigrationExecutor(connection)
    executor.migrate([("django_zero_downtime", None)])
    try:
        collected = collect(lab, DropDeprecatedColumn("Person", "last_name"))
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes("django_zero_downtime"))
    assert collected[0].startswith("-- django-zero-downtime: refused unless column")
    assert collected[1] == f'ALTER TABLE "{TABLE}" DROP COLUMN IF EXISTS "last_name";'


@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_collected_sql_of_the_contract_step(lab: Lab) -> None:
    lab.create("Person", person_fields())
    lab.apply(DualWriteRename("Person", "last_name", "surname"), atomic=False)
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        complete = CompleteDualWriteRename("Person", "last_name", "surname")
        complete.database_forwards(APP, editor, lab.state, lab.state)
    text = "\n".join(editor.collected_sql)
    assert "needs a migration with atomic = False" in text
    assert "VALIDATE CONSTRAINT" in text and 'DROP COLUMN IF EXISTS "last_name"' in text
