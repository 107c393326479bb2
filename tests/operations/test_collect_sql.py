"""Under sqlmigrate (a collecting schema editor) operations emit SQL and change nothing."""

from __future__ import annotations

import pytest
from django.db import connection, models
from django.db.migrations.operations.base import Operation
from django.db.models import F

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


@pytest.mark.parametrize(("operation", "expected"), CASES, ids=lambda c: type(c).__name__)
def test_collecting_sql_changes_nothing(lab: Lab, operation: Operation, expected: str) -> None:
    Person = lab.create("Person", person_fields())
    Person.objects.create(first_name="a", last_name="b")
    before = snapshot(lab)
    new_state = lab.state.clone()
    operation.state_forwards(APP, new_state)
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        operation.database_forwards(APP, editor, lab.state, new_state)
    assert any(expected in sql for sql in editor.collected_sql), editor.collected_sql
    assert snapshot(lab) == before
    assert not Deprecation.objects.exists()
    assert not BackfillProgress.objects.exists()


def test_collected_sql_of_the_contract_step(lab: Lab) -> None:
    lab.create("Person", person_fields())
    lab.apply(DualWriteRename("Person", "last_name", "surname"), atomic=False)
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        complete = CompleteDualWriteRename("Person", "last_name", "surname")
        complete.database_forwards(APP, editor, lab.state, lab.state)
    text = "\n".join(editor.collected_sql)
    assert "refused unless column zdtlab_person.last_name was deprecated" in text
    assert "VALIDATE CONSTRAINT" in text and 'DROP COLUMN IF EXISTS "last_name"' in text
