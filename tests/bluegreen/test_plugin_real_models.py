"""The plugin on real models: third-party fields get values they accept, historical states
stay consistent across app dependencies (no database needed for either)."""

from __future__ import annotations

import pytest
from django.db import connection, models
from django.db.migrations.graph import MigrationGraph
from django.test.utils import isolate_apps, override_settings

from django_zero_downtime.testing.migrator import OldCodeBroken, boundary_value, consistent

wagtail = pytest.importorskip("wagtail", reason="StreamField comes from wagtail (test extra)")


def stream_field() -> models.Field:
    with override_settings(STATIC_URL="/static/"):  # wagtail's blocks read it on import
        from wagtail import blocks
        from wagtail.fields import StreamField

    field = StreamField([("text", blocks.CharBlock())], blank=True)
    field.set_attributes_from_name("body")
    return field


def test_a_stream_field_gets_a_value_of_its_own_shape() -> None:
    field = stream_field()
    from wagtail.blocks import StreamValue

    value = boundary_value(field, "default")
    assert isinstance(value, StreamValue)  # not the JSON dict a JSONField gets
    assert field.get_db_prep_save(value, connection=connection) is not None  # storable as is


@isolate_apps("example_project.people")
def test_a_field_that_accepts_nothing_asks_for_values() -> None:
    class Picky(models.TextField):
        def to_python(self, value: object) -> object:
            raise TypeError("never")

    class Thing(models.Model):
        note = Picky()

        class Meta:
            app_label = "people"

    with pytest.raises(OldCodeBroken, match=r'values=\{"people.Thing": \{"note": \.\.\.\}\}'):
        boundary_value(Thing._meta.get_field("note"), "default")


def test_states_leave_out_migrations_that_need_a_later_one_of_a_named_app() -> None:
    graph = MigrationGraph()
    for key in [("breads", "0010"), ("breads", "0011"), ("menu", "0001"), ("menu", "0002")]:
        graph.add_node(key, None)
    graph.add_dependency(None, ("breads", "0011"), ("breads", "0010"))
    graph.add_dependency(None, ("menu", "0002"), ("menu", "0001"))
    graph.add_dependency(None, ("menu", "0002"), ("breads", "0011"))  # menu 0002 needs 0011
    asked = {("breads", "0010"), ("menu", "0001"), ("menu", "0002")}  # breads at 0010
    assert consistent(graph, asked) == {("breads", "0010"), ("menu", "0001")}
