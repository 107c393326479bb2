"""DualWriteRename: the database keeps last_name and surname equal for every writer."""

from __future__ import annotations

import random
import threading
from typing import Any

import pgtrigger.installation
import pytest
from django.core.management import call_command
from django.core.management.commands import makemigrations
from django.db import IntegrityError, connection, models, transaction
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.migration import Migration
from django.db.migrations.operations import CreateModel
from django.db.migrations.state import ProjectState
from django.test import override_settings

from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.models import BackfillProgress, Deprecation
from django_zero_downtime.operations import CompleteDualWriteRename, DualWriteRename
from django_zero_downtime.operations.triggers import dual_write_pgid, installed_dual_write_triggers
from tests.operations.conftest import APP, Lab, person_fields

TABLE = "zdtlab_person"
RENAME = DualWriteRename("Person", "last_name", "surname", batch_size=7)


def mismatches(lab: Lab) -> int:
    return lab.sql(f"SELECT count(*) FROM {TABLE} WHERE last_name IS DISTINCT FROM surname")[0][0]


def renamed(lab: Lab, rows: int = 0) -> Lab:
    Person = lab.create("Person", person_fields())
    Person.objects.bulk_create(Person(first_name="f", last_name=f"l{i}") for i in range(rows))
    lab.apply(RENAME, atomic=False)
    return lab


def triggers(lab: Lab) -> list[str]:
    with connection.cursor() as cursor:
        return installed_dual_write_triggers(cursor, TABLE)


def test_existing_rows_are_copied_in_batches(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    renamed(lab, rows=50)
    assert mismatches(lab) == 0
    assert lab.sql(f"SELECT count(*) FROM {TABLE} WHERE surname LIKE 'l%%'") == [(50,)]
    progress = BackfillProgress.objects.get(key=RENAME.backfill_key(TABLE))
    assert progress.rows_done == 50 and progress.finished_at is not None
    assert "50 rows" in capsys.readouterr().out
    assert triggers(lab) == [dual_write_pgid(TABLE, "last_name", "surname")]


def test_state_has_the_new_name_and_the_old_column_is_recorded(lab: Lab) -> None:
    renamed(lab)
    names = [f.name for f in lab.model("Person")._meta.get_fields()]
    assert "surname" in names and "last_name" not in names
    deprecation = Deprecation.objects.get(table=TABLE)
    assert (deprecation.kind, deprecation.column) == ("column", "last_name")


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        # previous release: knows only last_name
        ("INSERT INTO {t} (first_name, last_name) VALUES ('f', 'old')", ("old", "old")),
        # current release: knows only surname (last_name NOT NULL: filled before the check)
        ("INSERT INTO {t} (first_name, surname) VALUES ('f', 'new')", ("new", "new")),
        # a writer that sets both: the new column wins
        ("INSERT INTO {t} (first_name, last_name, surname) VALUES ('f', 'a', 'b')", ("b", "b")),
        ("UPDATE {t} SET last_name = 'changed-old'", ("changed-old", "changed-old")),
        ("UPDATE {t} SET surname = 'changed-new'", ("changed-new", "changed-new")),
        ("UPDATE {t} SET first_name = 'other'", ("seed", "seed")),
        ("UPDATE {t} SET last_name = 'x', surname = 'y'", ("y", "y")),
    ],
)
def test_trigger_semantics(lab: Lab, statement: str, expected: tuple[str, str]) -> None:
    renamed(lab)
    if statement.startswith("UPDATE"):
        lab.sql(f"INSERT INTO {TABLE} (first_name, last_name) VALUES ('f', 'seed')")
    lab.sql(statement.format(t=TABLE))
    assert lab.sql(f"SELECT last_name, surname FROM {TABLE}") == [expected]


@pytest.mark.slow
def test_previous_and_current_models_write_concurrently_and_stay_equal(lab: Lab) -> None:
    """Two connections, previous model (old column) vs current model (new column).

    Rows 1-10 are updated only by the previous release, 11-20 only by the current one and
    21-30 by both: afterwards no row differs, and each writer's own rows hold its last write
    (so equality was not reached by throwing one writer's values away).
    """
    renamed(lab, rows=30)
    writers = {
        "last_name": Writer(lab.model("Person", lab.history[-2]), "last_name", range(1, 11)),
        "surname": Writer(lab.model("Person"), "surname", range(11, 21)),
    }
    mid, resume = threading.Barrier(3), threading.Barrier(3)
    threads = [threading.Thread(target=w.run, args=(mid, resume)) for w in writers.values()]
    for thread in threads:
        thread.start()
    mid.wait()
    call_command("pgtrigger", "install")
    call_command("pgtrigger", "prune")
    resume.wait()
    for thread in threads:
        thread.join()
    assert [w.error for w in writers.values()] == [None, None]
    assert lab.sql(f"SELECT count(*) FROM {TABLE}")[0][0] > 30
    assert mismatches(lab) == 0
    for writer in writers.values():
        assert writer.last, "every writer updated its own rows"
        for pk, value in writer.last.items():
            assert lab.sql(f"SELECT last_name, surname FROM {TABLE} WHERE id = %s", [pk]) == [
                (value, value)
            ]
    assert triggers(lab) == [dual_write_pgid(TABLE, "last_name", "surname")]


class Writer:
    """Mixed inserts, ORM saves and queryset updates through one model, on its own connection."""

    SHARED = range(21, 31)

    def __init__(self, model: Any, field: str, own: range) -> None:
        self.model, self.field, self.own = model, field, own
        self.rng = random.Random(field)
        self.last: dict[int, str] = {}
        self.error: BaseException | None = None

    def run(self, mid: threading.Barrier, resume: threading.Barrier) -> None:
        try:
            for i in range(300):
                if i == 150:
                    mid.wait()
                    resume.wait()
                self.write_once(f"{self.field}-{i}")
        except BaseException as exc:  # reported to the main thread
            self.error = exc
            mid.abort()
        finally:
            connection.close()

    def write_once(self, value: str) -> None:
        choice = self.rng.random()
        if choice < 0.3:
            self.model.objects.create(first_name="t", **{self.field: value})
            return
        pk = self.rng.choice([*self.own, *self.SHARED])
        if choice < 0.65:
            row = self.model.objects.get(pk=pk)
            setattr(row, self.field, value)
            row.save()
        else:
            self.model.objects.filter(pk=pk).update(**{self.field: value})
        if pk in self.own:
            self.last[pk] = value


def test_pgtrigger_prune_leaves_our_trigger_but_prunes_its_own_orphans(lab: Lab) -> None:
    renamed(lab)
    pgid = dual_write_pgid(TABLE, "last_name", "surname")
    orphan = "pgtrigger_orphan_abcde"
    lab.sql(
        f"CREATE TRIGGER {orphan} BEFORE INSERT ON {TABLE} FOR EACH ROW EXECUTE FUNCTION {pgid}()"
    )
    assert [row[1] for row in pgtrigger.installation.prunable()] == [orphan]
    call_command("pgtrigger", "prune")
    call_command("pgtrigger", "install")
    assert triggers(lab) == [pgid]
    assert lab.sql(f"SELECT count(*) FROM pg_trigger WHERE tgname = '{orphan}'") == [(0,)]


def test_autodetector_sees_no_trigger_change(lab: Lab) -> None:
    """The trigger is not in the state, so pgtrigger's makemigrations never removes it."""
    renamed(lab)
    assert not lab.state.models[APP, "person"].options.get("triggers")
    fields = [(n, f) for n, f in person_fields() if n != "last_name"]
    written = ProjectState()
    CreateModel("Person", [*fields, ("surname", models.CharField(max_length=100))]).state_forwards(
        APP, written
    )
    autodetector = makemigrations.MigrationAutodetector  # type: ignore[attr-defined]
    detector = autodetector(lab.state, written)
    assert detector.changes(graph=MigrationGraph()) == {}


def test_refused_inside_an_atomic_migration(lab: Lab) -> None:
    lab.create("Person", person_fields())
    with pytest.raises(UnsafeOperationError, match="atomic = False"):
        lab.apply(RENAME, atomic=True)
    assert lab.sql(
        f"SELECT count(*) FROM pg_attribute WHERE attname = 'surname' "
        f"AND attrelid = '{TABLE}'::regclass"
    ) == [(0,)]


def test_backwards_removes_column_trigger_and_ledger_rows(lab: Lab) -> None:
    renamed(lab, rows=3)
    lab.unapply(RENAME)
    assert triggers(lab) == []
    assert not Deprecation.objects.filter(table=TABLE).exists()
    assert not BackfillProgress.objects.exists()
    lab.model("Person").objects.create(first_name="a", last_name="b")
    lab.apply(RENAME, atomic=False)
    assert mismatches(lab) == 0


def test_pgtrigger_ignore_setting_switches_the_trigger_off(lab: Lab) -> None:
    """The cheap ignore check honours pgtrigger's ``pgtrigger.ignore`` setting."""
    renamed(lab)
    pgid = dual_write_pgid(TABLE, "last_name", "surname")
    with transaction.atomic():
        lab.sql("SELECT set_config('pgtrigger.ignore', %s, true)", [f"{{{pgid}}}"])
        lab.sql(f"INSERT INTO {TABLE} (first_name, last_name) VALUES ('f', 'ignored')")
    lab.sql(f"INSERT INTO {TABLE} (first_name, last_name) VALUES ('f', 'synced')")
    rows = lab.sql(f"SELECT last_name, surname FROM {TABLE} ORDER BY id")
    assert rows == [("ignored", None), ("synced", "synced")]


def test_rename_of_indexed_foreign_key_and_unique_field_carries_constraints(lab: Lab) -> None:
    Team = lab.create("Team", [("id", models.BigAutoField(primary_key=True))])
    fields = [
        ("id", models.BigAutoField(primary_key=True)),
        ("team", models.ForeignKey("zdtlab.Team", models.CASCADE)),
        ("code", models.CharField(max_length=10, unique=True)),
    ]
    Member = lab.create("Member", fields)
    team = Team.objects.create()
    Member.objects.create(team_id=team.pk, code="a")
    with override_settings(ZDT_DEPRECATION_CYCLES=0):
        for old, new in (("team", "squad"), ("code", "ref")):
            lab.apply(DualWriteRename("Member", old, new), atomic=False)
            lab.apply(CompleteDualWriteRename("Member", old, new), atomic=False)
    constraints = {
        (row[0], row[1])
        for row in lab.sql(
            "SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'zdtlab_member'::regclass AND convalidated"
        )
    }
    assert ("u", "UNIQUE (ref)") in constraints
    assert any(kind == "f" and "(squad_id)" in definition for kind, definition in constraints)
    indexes = lab.sql("SELECT indexdef FROM pg_indexes WHERE tablename = 'zdtlab_member'")
    assert any("(squad_id)" in row[0] for row in indexes)
    lab.model("Member").objects.create(squad_id=team.pk, ref="b")
    with pytest.raises(IntegrityError):
        lab.sql("INSERT INTO zdtlab_member (squad_id, ref) VALUES (%s, 'b')", [team.pk])


def test_rerun_after_an_interrupted_apply_is_harmless(lab: Lab) -> None:
    """A non-atomic migration that died mid-way runs again from the start."""
    renamed(lab, rows=10)
    before = lab.history[-2]
    new = lab.state
    with connection.schema_editor(atomic=False) as editor:
        RENAME.database_forwards(APP, editor, before, new)
    assert mismatches(lab) == 0
    assert triggers(lab) == [dual_write_pgid(TABLE, "last_name", "surname")]


@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_complete_sets_the_declared_database_default(lab: Lab) -> None:
    fields = [
        ("id", models.BigAutoField(primary_key=True)),
        ("level", models.IntegerField(db_default=3)),
    ]
    lab.create("Player", fields)
    lab.apply(DualWriteRename("Player", "level", "rank"), atomic=False)
    lab.apply(CompleteDualWriteRename("Player", "level", "rank"), atomic=False)
    lab.sql("INSERT INTO zdtlab_player DEFAULT VALUES")
    assert lab.sql("SELECT rank FROM zdtlab_player") == [(3,)]


def test_refusal_names_the_running_migration(lab: Lab) -> None:
    lab.create("Person", person_fields())

    from django_zero_downtime.ledger import running

    with (
        running(Migration("0009_rename", "zdtlab")),
        pytest.raises(UnsafeOperationError, match=r"^zdtlab\.0009_rename: Rename field"),
    ):
        lab.apply(RENAME, atomic=True)


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (DualWriteRename("Person", "id", "key"), "primary key"),
        (DualWriteRename("Person", "tags", "labels"), "M2M"),
    ],
)
def test_unsupported_fields_are_refused(lab: Lab, operation: DualWriteRename, message: str) -> None:
    lab.create("Tag", [("id", models.BigAutoField(primary_key=True))])
    lab.create("Person", [*person_fields(), ("tags", models.ManyToManyField("zdtlab.Tag"))])
    with pytest.raises(UnsafeOperationError, match=message):
        lab.apply(operation, atomic=False)


def test_previous_release_keeps_writing_while_the_rename_is_applied(lab: Lab) -> None:
    """ADD COLUMN, trigger and backfill happen under a live writer of the old column."""
    Person = lab.create("Person", person_fields())
    Person.objects.bulk_create(Person(first_name="f", last_name=f"l{i}") for i in range(60))
    previous = lab.model("Person")
    started, stop = threading.Event(), threading.Event()
    writer = Writer(previous, "last_name", range(1, 61))
    writer.SHARED = range(0)

    def run() -> None:
        try:
            for i in range(5000):
                writer.write_once(f"w{i}")
                started.set()
                if stop.is_set():
                    break
        except BaseException as exc:
            writer.error = exc
        finally:
            started.set()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    started.wait()
    lab.apply(DualWriteRename("Person", "last_name", "surname", batch_size=5), atomic=False)
    stop.set()
    thread.join()
    assert writer.error is None
    assert mismatches(lab) == 0
    for pk, value in writer.last.items():
        assert lab.sql(f"SELECT surname FROM {TABLE} WHERE id = %s", [pk]) == [(value,)]


def test_a_runner_can_name_the_migration_explicitly(lab: Lab) -> None:
    from django_zero_downtime.operations.base import RUNNING_MIGRATION

    token = RUNNING_MIGRATION.set("people.0042_explicit")
    try:
        renamed(lab)
    finally:
        RUNNING_MIGRATION.reset(token)
    assert Deprecation.objects.get(table=TABLE).migration == "people.0042_explicit"
