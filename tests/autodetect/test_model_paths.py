"""A model renamed on a live table: the previous release keeps writing its old table name."""

from __future__ import annotations

from tests.autodetect.harness import ROWS, Project, Writer, fill, models


def test_renamed_model_keeps_a_view_for_the_previous_release(project: Project) -> None:
    project.write_models(models())
    project.ok("makemigrations", "shop")
    project.ok("safemigrate", "--release", "r1")
    fill(
        project,
        "INSERT INTO shop_item (name, qty) SELECT 'n' || g, 0 FROM generate_series(1, ROWS) g",
    )
    project.write_models(models().replace("class Item(", "class Product("))
    project.ok("makemigrations", "shop", answers="y\n")
    assert "RenameModelWithView(" in project.migration_text("0002")
    project.ok("safemigrate", "--check")
    old_release = Writer(
        project,
        "INSERT INTO shop_item (name, qty) VALUES ('w', 0)",
        "UPDATE shop_item SET qty = qty + 1 WHERE id = %s",
        ROWS,
    ).start()
    try:
        project.ok("safemigrate", "--release", "r2")
    finally:
        old_release.stop()
    old_release.assert_unharmed()
    assert project.one("SELECT relkind FROM pg_class WHERE relname = 'shop_item'") == "v"
    assert project.one("SELECT count(*) FROM shop_product") == ROWS + old_release.inserts
    assert project.one("SELECT sum(qty) FROM shop_product") == old_release.updates
    project.ok("makemigrations", "--check", "--dry-run", "shop")
