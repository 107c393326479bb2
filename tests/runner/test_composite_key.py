"""A backfill on a model with Django 5.2's ``CompositePrimaryKey``: ``--plan`` says the
apply will refuse it and why; the apply refuses it with the model and the fix, exit 3,
no traceback, the migration not applied."""

from __future__ import annotations

import pytest

from tests.runner.conftest import MigrationsPackage, applied, migration, safemigrate

pytestmark = pytest.mark.django_db(transaction=True)

COMPOSITE = migration(
    [],
    """        migrations.CreateModel(
            name="Item",
            fields=[
                ("pk", models.CompositePrimaryKey("x", "y")),
                ("x", models.IntegerField()),
                ("y", models.IntegerField()),
                ("n", models.IntegerField(null=True)),
            ],
        ),""",
)
FILL = "import django_zero_downtime.operations as zdt\n" + migration(
    ["0001_item"], '        zdt.BatchedBackfill("item", {"n": 1}),', atomic=False
)
SAYS = (
    "Backfill n on item in batches: rapp.Item has a composite primary key (x, y), and "
    "backfills walk a table in batches of a single-column primary key. Give the model a "
    "single-column primary key"
)


def test_a_backfill_on_a_composite_primary_key(rapp: MigrationsPackage) -> None:
    rapp.write(**{"0001_item": COMPOSITE})
    assert safemigrate("rapp").code == 0
    rapp.write(**{"0002_fill": FILL})
    plan = safemigrate("rapp", "--plan")
    assert "SQL could not be collected: UnsafeOperationError: " + SAYS in plan.out
    done = safemigrate("rapp")
    assert done.code == 3 and "Traceback" not in done.out + done.err
    assert SAYS in done.err
    assert applied() == ["0001_item"]
