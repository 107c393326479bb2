"""Reruns after a kill: what an earlier run left under a statement's name is adopted,
rebuilt, validated or refused (operations/reentry.py), for Django's own operations run by
safemigrate and for this product's under plain ``migrate``."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from tests.runner.conftest import (
    CREATE_ITEM,
    MigrationsPackage,
    applied,
    fill,
    migration,
    safemigrate,
)

pytestmark = pytest.mark.django_db(transaction=True)

POSTGRES_OPS = "\nfrom django.contrib.postgres.operations import AddIndexConcurrently\n\n\n"
INDEX = """        AddIndexConcurrently(
            "item",
            models.Index(fields=["n"], name="rapp_item_n_idx", condition=models.Q(n__gt=0)),
        ),"""
DJANGO_INDEX = migration(["0001_item"], INDEX, atomic=False).replace("\n\n\n", POSTGRES_OPS)
CHECK = """        migrations.AddConstraint(
            "item", models.CheckConstraint(condition=models.Q(n__gte=0), name="rapp_n_gte_0"),
        ),"""
DJANGO_CHECK = migration(["0001_item"], CHECK, atomic=False)
OUR_INDEX = migration(
    ["0001_item"],
    """        django_zero_downtime.operations.AddIndexInSteps(
            "item", models.Index(fields=["n"], name="rapp_item_n_idx", condition=models.Q(n__gt=0)),
        ),""",
    atomic=False,
).replace("\n\n\n", "\nimport django_zero_downtime.operations\n\n\n")


def sql(statement: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement)


def one(query: str) -> object:
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0]


def start(rapp: MigrationsPackage, second: str) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    fill("rapp_item", 50)
    rapp.write(**{"0002_next": second})


LEFT_INDEX = 'CREATE INDEX "rapp_item_n_idx" ON "rapp_item" USING btree ("n") WHERE "n" > 0'


def test_valid_index_left_by_a_killed_run_is_adopted(rapp: MigrationsPackage) -> None:
    start(rapp, DJANGO_INDEX)
    sql(LEFT_INDEX.replace('"n" > 0', "(n > 0)"))  # written differently, the same index
    result = safemigrate("rapp")
    assert result.code == 0, result.err
    assert "adopted existing valid index rapp_item_n_idx" in result.out
    assert applied() == ["0001_item", "0002_next"]


def test_index_of_that_name_with_another_definition_is_refused(rapp: MigrationsPackage) -> None:
    start(rapp, DJANGO_INDEX)
    sql(LEFT_INDEX.replace("WHERE", "WHERE n < 100 AND"))
    result = safemigrate("rapp")
    assert result.code == 3
    assert "Index rapp_item_n_idx already exists with another definition" in result.err
    assert "found:  CREATE INDEX rapp_item_n_idx" in result.err
    assert "Traceback" not in result.err + result.out
    assert applied() == ["0001_item"]


def test_unique_and_plain_index_are_not_the_same(rapp: MigrationsPackage) -> None:
    start(rapp, DJANGO_INDEX)
    sql(LEFT_INDEX.replace("CREATE INDEX", "CREATE UNIQUE INDEX"))
    assert safemigrate("rapp").code == 3


def test_invalid_index_is_dropped_and_rebuilt(rapp: MigrationsPackage) -> None:
    start(rapp, DJANGO_INDEX)
    sql("UPDATE rapp_item SET n = 1")  # a unique build fails and leaves an INVALID index
    with pytest.raises(Exception, match="could not create unique index"):
        sql(LEFT_INDEX.replace("CREATE INDEX", "CREATE UNIQUE INDEX CONCURRENTLY"))
    assert one("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = 'rapp_item_n_idx'::regclass")
    result = safemigrate("rapp")
    assert result.code == 0, result.err
    assert "dropping INVALID index rapp_item_n_idx" in result.out
    assert one("SELECT indisvalid AND NOT indisunique FROM pg_index "
               "WHERE indexrelid = 'rapp_item_n_idx'::regclass")  # fmt: skip


def test_constraint_left_validated_is_adopted(rapp: MigrationsPackage) -> None:
    start(rapp, DJANGO_CHECK)
    sql('ALTER TABLE rapp_item ADD CONSTRAINT rapp_n_gte_0 CHECK ("n" >= 0)')
    result = safemigrate("rapp")
    assert result.code == 0, result.err
    assert "adopted existing validated constraint rapp_n_gte_0 on rapp_item" in result.out


def test_constraint_left_not_valid_is_validated(rapp: MigrationsPackage) -> None:
    start(rapp, DJANGO_CHECK)
    sql("ALTER TABLE rapp_item ADD CONSTRAINT rapp_n_gte_0 CHECK (n >= 0) NOT VALID")
    result = safemigrate("rapp")
    assert result.code == 0, result.err
    assert "left NOT VALID: validating it" in result.out
    assert one("SELECT convalidated FROM pg_constraint WHERE conname = 'rapp_n_gte_0'")


def test_constraint_with_another_definition_is_refused(rapp: MigrationsPackage) -> None:
    start(rapp, DJANGO_CHECK)
    sql("ALTER TABLE rapp_item ADD CONSTRAINT rapp_n_gte_0 CHECK (n >= 1)")
    result = safemigrate("rapp")
    assert result.code == 3
    assert "Constraint rapp_n_gte_0 already exists with another definition" in result.err


def test_trigger_left_behind_is_adopted(rapp: MigrationsPackage) -> None:
    body = (
        "CREATE TRIGGER rapp_t BEFORE UPDATE OF n ON rapp_item FOR EACH ROW "
        "EXECUTE FUNCTION suppress_redundant_updates_trigger()"
    )
    start(rapp, migration(["0001_item"], f"        migrations.RunSQL({body!r}),", atomic=False))
    sql(body)
    result = safemigrate("rapp")
    assert result.code == 0, result.err
    assert "adopted existing trigger rapp_t" in result.out


def test_our_operation_adopts_under_plain_migrate(rapp: MigrationsPackage) -> None:
    start(rapp, OUR_INDEX)
    sql(LEFT_INDEX)
    call_command("migrate", "rapp", verbosity=0)
    assert applied() == ["0001_item", "0002_next"]


NON_ATOMIC_MODEL = migration(
    ["0001_item"],
    """        migrations.CreateModel(
            name="Tag",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("item", models.ForeignKey("rapp.item", models.CASCADE)),
                ("label", models.CharField(max_length=20)),
            ],
        ),""",
    atomic=False,
)


def test_table_left_by_a_killed_run_is_adopted_with_its_foreign_key(
    rapp: MigrationsPackage,
) -> None:
    """Killed after CREATE TABLE and its foreign key committed: the table, the constraint
    and the index of the foreign key column are adopted, nothing is built twice."""
    start(rapp, NON_ATOMIC_MODEL)
    statements = [s for s in sqlmigrate_lines() if s.startswith(("CREATE TABLE", "ALTER TABLE"))]
    for statement in statements:
        sql(statement)
    result = safemigrate("rapp")
    assert result.code == 0, result.err
    assert "adopted existing table rapp_tag" in result.out
    assert "adopted existing" in result.out.split("adopted existing table")[1]  # the FK too
    assert applied() == ["0001_item", "0002_next"]


def test_table_with_other_columns_is_refused(rapp: MigrationsPackage) -> None:
    start(rapp, NON_ATOMIC_MODEL)
    sql("CREATE TABLE rapp_tag (id bigint PRIMARY KEY, label text)")
    result = safemigrate("rapp")
    assert result.code == 3
    assert "Table rapp_tag already exists with another definition" in result.err


def sqlmigrate_lines() -> list[str]:
    from io import StringIO

    out = StringIO()
    call_command("sqlmigrate", "rapp", "0002", stdout=out)
    return [line.rstrip(";") for line in out.getvalue().splitlines() if line and line[0] != "-"]
