"""AddColumnWithDefault on PostgreSQL: metadata-only, and the previous release still inserts."""

from __future__ import annotations

import pytest
from django.db import connection, models
from django.db.models.functions import Now, Random
from django.test.utils import CaptureQueriesContext

from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.operations import AddColumnWithDefault
from tests.operations.conftest import Lab, person_fields


def relfilenode(lab: Lab, table: str) -> int:
    return lab.sql("SELECT relfilenode FROM pg_class WHERE oid = %s::regclass", [table])[0][0]


def test_previous_release_inserts_and_the_table_is_not_rewritten(lab: Lab) -> None:
    Person = lab.create("Person", person_fields())
    Person.objects.bulk_create(Person(first_name="a", last_name=str(i)) for i in range(200))
    before = relfilenode(lab, "zdtlab_person")
    field = models.CharField(max_length=20, default="unknown")
    with CaptureQueriesContext(connection) as queries:
        lab.apply(AddColumnWithDefault("Person", "nickname", field))
    previous = lab.model("Person", lab.history[-2])
    previous.objects.create(first_name="old", last_name="release")
    assert relfilenode(lab, "zdtlab_person") == before
    alters = [q["sql"] for q in queries.captured_queries if "zdtlab_person" in q["sql"]]
    assert alters == [
        'ALTER TABLE "zdtlab_person" ADD COLUMN "nickname" varchar(20) DEFAULT \'unknown\' NOT NULL'
    ]
    values = lab.sql("SELECT DISTINCT nickname FROM zdtlab_person")
    assert values == [("unknown",)]
    assert lab.sql(
        "SELECT attnotnull FROM pg_attribute WHERE attname = 'nickname' "
        "AND attrelid = 'zdtlab_person'::regclass"
    ) == [(True,)]


def test_state_keeps_the_python_default_and_current_model_writes_it(lab: Lab) -> None:
    lab.create("Person", person_fields())
    field = models.IntegerField(default=7)
    lab.apply(AddColumnWithDefault("Person", "score", field))
    state_field = lab.model("Person")._meta.get_field("score")
    assert state_field.default == 7
    assert not state_field.has_db_default()
    lab.model("Person").objects.create(first_name="a", last_name="b", score=3)
    assert lab.sql("SELECT score FROM zdtlab_person") == [(3,)]


def test_stable_expression_db_default_is_accepted(lab: Lab) -> None:
    lab.create("Person", person_fields())
    before = relfilenode(lab, "zdtlab_person")
    lab.apply(AddColumnWithDefault("Person", "seen", models.DateTimeField(db_default=Now())))
    lab.model("Person", lab.history[-2]).objects.create(first_name="a", last_name="b")
    assert lab.sql("SELECT seen IS NOT NULL FROM zdtlab_person") == [(True,)]
    assert relfilenode(lab, "zdtlab_person") == before


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (models.CharField(max_length=5, default=str), "is a callable"),
        (models.FloatField(db_default=Random()), "volatile"),
        (models.IntegerField(), "has no default"),
        (models.IntegerField(default=0, unique=True), "AddIndexConcurrently"),
        (models.IntegerField(default=0, db_index=True), "AddIndexConcurrently"),
    ],
)
def test_refused_defaults_leave_the_table_alone(
    lab: Lab, field: models.Field, message: str
) -> None:
    lab.create("Person", person_fields())
    before = relfilenode(lab, "zdtlab_person")
    with pytest.raises(UnsafeOperationError, match=message) as refused:
        lab.apply(AddColumnWithDefault("Person", "extra", field))
    if message in ("is a callable", "volatile", "has no default"):
        assert "BatchedBackfill" in str(refused.value)
    columns = lab.sql(
        "SELECT attname FROM pg_attribute WHERE attrelid = "
        "'zdtlab_person'::regclass AND attnum > 0 AND NOT attisdropped"
    )
    assert ("extra",) not in columns
    assert relfilenode(lab, "zdtlab_person") == before


def test_backwards_drops_the_column(lab: Lab) -> None:
    lab.create("Person", person_fields())
    operation = AddColumnWithDefault(
        "Person", "nickname", models.CharField(max_length=5, default="")
    )
    lab.apply(operation)
    lab.unapply(operation)
    lab.model("Person").objects.create(first_name="a", last_name="b")
    assert lab.sql(
        "SELECT count(*) FROM pg_attribute WHERE attname = 'nickname' "
        "AND attrelid = 'zdtlab_person'::regclass AND NOT attisdropped"
    ) == [(0,)]
