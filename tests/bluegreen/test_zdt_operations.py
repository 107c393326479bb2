"""django-zero-downtime's own operations: the expand steps pass the compatibility check and
the previous release's models really keep working on PostgreSQL; a contract step shipped in
the same deploy as its expand step is caught."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection, migrations, models
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from django_zero_downtime.bluegreen.compatibility import find_breaks
from django_zero_downtime.operations import (
    AddColumnWithDefault,
    CompleteDualWriteRename,
    DeprecateColumn,
    DeprecateTable,
    DropDeprecatedColumn,
    DropDeprecatedTable,
    DualWriteRename,
)
from django_zero_downtime.operations.tables import deprecated_table_name
from django_zero_downtime.sql.identifiers import quote_ident
from django_zero_downtime.testing import exercise_model
from tests.bluegreen.scenarios import (
    APP,
    PREVIOUS_RELEASE,
    check,
    migration,
    previous_state,
    rules,
    state_after,
)

TABLE = "compatapp_person"
EMAIL = models.CharField(max_length=50, default="none")

EXPAND: dict[str, list[Operation]] = {
    "AddColumnWithDefault NOT NULL": [AddColumnWithDefault("person", "email", EMAIL)],
    "DualWriteRename expand step": [DualWriteRename("person", "last_name", "surname")],
    "DeprecateColumn": [DeprecateColumn("person", "last_name")],
    "DeprecateTable": [DeprecateTable("Person")],
}

CONTRACT_TOO_EARLY: dict[str, tuple[list[Operation], list[str]]] = {
    "rename completed in the same deploy": (
        [
            DualWriteRename("person", "last_name", "surname"),
            CompleteDualWriteRename("person", "last_name", "surname"),
        ],
        ["ZDT502", "ZDT504"],  # last_name is gone; surname is NOT NULL and no longer filled
    ),
    "column dropped in the same deploy": (
        [DeprecateColumn("person", "last_name"), DropDeprecatedColumn("person", "last_name")],
        ["ZDT502"],
    ),
    "table dropped in the same deploy": (
        [DeprecateTable("Person"), DropDeprecatedTable("Person")],
        ["ZDT501"],
    ),
}


@pytest.mark.parametrize("case", EXPAND, ids=list(EXPAND))
def test_expand_steps_pass_the_check(case: str) -> None:
    assert check(EXPAND[case]) == []


@pytest.mark.parametrize("case", CONTRACT_TOO_EARLY, ids=list(CONTRACT_TOO_EARLY))
def test_contract_in_the_same_deploy_is_caught(case: str) -> None:
    expand, contract = CONTRACT_TOO_EARLY[case][0]
    findings = check([expand], [contract])
    assert rules(findings) == CONTRACT_TOO_EARLY[case][1]
    assert findings[0].migration == "0003_new"
    assert findings[0].operation == type(contract).__name__


def test_contract_a_release_later_passes() -> None:
    """The previous release already runs with ``surname``: dropping last_name is fine."""
    expanded = state_after([DualWriteRename("person", "last_name", "surname")], previous_state())
    step = (
        APP,
        migration("0003_complete", [CompleteDualWriteRename("person", "last_name", "surname")]),
    )
    assert find_breaks(expanded, [step], connection) == []


def test_without_the_effect_the_rename_would_be_a_break() -> None:
    """Guards the mechanism: the same state change as a plain RenameField is caught."""
    assert "ZDT502" in rules(check([migrations.RenameField("person", "last_name", "surname")]))


@pytest.fixture
def previous_table(transactional_db: None) -> Iterator[None]:
    """The previous release's table, created for real; dropped afterwards (with a view)."""
    with connection.schema_editor() as editor:
        editor.create_model(previous_state().apps.get_model(APP, "Person"))
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        if cursor.fetchone() == ("v",):
            cursor.execute(f"DROP VIEW {quote_ident(TABLE)}")
        for name in (TABLE, deprecated_table_name(TABLE)):
            cursor.execute(f"DROP TABLE IF EXISTS {quote_ident(name)} CASCADE")


@pytest.mark.parametrize("case", EXPAND, ids=list(EXPAND))
def test_previous_release_works_after_expand_step(previous_table: None, case: str) -> None:
    state = state_after(PREVIOUS_RELEASE)
    for op in EXPAND[case]:
        after = state.clone()
        op.state_forwards(APP, after)
        with connection.schema_editor(atomic=False) as editor:
            op.database_forwards(APP, editor, state, after)
        state = after
    old_person = previous_state().apps.get_model(APP, "Person")
    assert exercise_model(old_person) == 8


def test_dual_write_fills_the_new_column_for_old_writes(previous_table: None) -> None:
    state: ProjectState = state_after(PREVIOUS_RELEASE)
    after = state_after([DualWriteRename("person", "last_name", "surname")], state.clone())
    with connection.schema_editor(atomic=False) as editor:
        DualWriteRename("person", "last_name", "surname").database_forwards(
            APP, editor, state, after
        )
    old_person = previous_state().apps.get_model(APP, "Person")
    old_person.objects.create(first_name="Ada", last_name="Lovelace", score=1)
    new_person = after.apps.get_model(APP, "Person")
    assert list(new_person.objects.values_list("surname", flat=True)) == ["Lovelace"]
