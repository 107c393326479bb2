"""Retypes that shrink or rescale, live: the two-way cast trigger refuses what does not fit,
multi-column indexes and unique constraints are rebuilt on the shadow and swapped in."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.autodetect.harness import ROWS, Project, Writer, checksum, fill, relfilenode
from tests.autodetect.harness import models as item_models
from tests.autodetect.test_index_paths import constraint_kinds, index_valid
from tests.autodetect.test_retype_paths import column_type

CODE = """\
    code = models.CharField(max_length=100)

    class Meta:
        indexes = [models.Index(fields=["qty", "code"], name="item_qty_code_idx")]
        constraints = [models.UniqueConstraint(fields=["name", "code"], name="item_name_code_uq")]
"""
PRICE = "    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)\n"


def release(project: Project, label: str, insert: str) -> str:
    """``safemigrate --release label`` under a writer of single-row inserts and updates."""
    update = "UPDATE shop_item SET qty = qty + 1 WHERE id = %s"
    writer = Writer(project, insert, update, ROWS).start()
    try:
        done = project.django("safemigrate", "--release", label)
        time.sleep(0.2)
    finally:
        writer.stop()
    writer.assert_unharmed()
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def run(project: Project, sql: str) -> None:
    with project.connect() as conn:
        conn.execute(sql)


def refused(project: Project, sql: str) -> str:
    with project.connect() as conn, pytest.raises(psycopg.Error) as caught:
        conn.execute(sql)
    return str(caught.value)


def test_varchar_shrink_refuses_a_long_value_then_swaps_with_its_composites(
    project: Project,
) -> None:
    project.write_models(item_models(CODE))
    project.ok("makemigrations", "shop")
    project.ok("safemigrate", "--release", "r1")
    fill(
        project,
        "INSERT INTO shop_item (name, qty, code) SELECT 'n' || g, g % 100, 'c' || g "
        "FROM generate_series(1, ROWS) g",
    )
    run(project, "UPDATE shop_item SET code = repeat('x', 30) WHERE id = 7")
    node, sums = relfilenode(project, "shop_item"), checksum(project, "shop_item", "id, name", ROWS)
    project.write_models(item_models(CODE.replace("max_length=100", "max_length=20")))
    project.ok("makemigrations", "shop")
    project.ok("safemigrate", "--check")

    failed = project.django("safemigrate", "--release", "r2")
    assert failed.returncode == 3 and "Traceback" not in failed.stderr
    said = failed.stdout + failed.stderr
    assert "shop_item.code: the value xxxxxxxxxx" in said and "does not fit varchar(20)" in said
    run(project, "UPDATE shop_item SET code = 'c7' WHERE id = 7")  # fixed, through the trigger
    insert = "INSERT INTO shop_item (name, qty, code) VALUES ('w' || random(), 0, 'w')"
    release(project, "r2", insert)  # resumes

    long = "INSERT INTO shop_item (name, qty, code) VALUES ('z', 0, repeat('y', 21))"
    assert "does not fit varchar(20)" in refused(project, long)
    run(project, "UPDATE shop_item SET code_zdt_new = 'via new' WHERE id = 9")  # the other way
    assert project.one("SELECT code FROM shop_item WHERE id = 9") == "via new"

    release(project, "r3", insert)  # the contract: the swap
    assert column_type(project, "shop_item", "code") == "character varying(20)"
    assert relfilenode(project, "shop_item") == node
    assert checksum(project, "shop_item", "id, name", ROWS) == sums
    assert constraint_kinds(project)["item_name_code_uq"][:2] == ("u", True)
    definition = project.one("SELECT pg_get_indexdef('item_qty_code_idx'::regclass)")
    assert "(qty, code)" in definition and index_valid(project, "item_qty_code_idx")
    assert "(name, code)" in project.one("SELECT pg_get_indexdef('item_name_code_uq'::regclass)")
    assert "duplicate key" in refused(
        project, "INSERT INTO shop_item (name, qty, code) VALUES ('n5', 0, 'c5')"
    )
    project.ok("makemigrations", "--check", "--dry-run", "shop")


def test_numeric_scale_change_casts_both_ways_and_refuses_a_rounding(project: Project) -> None:
    project.write_models(item_models(PRICE))
    project.ok("makemigrations", "shop")
    project.ok("safemigrate", "--release", "r1")
    fill(
        project,
        "INSERT INTO shop_item (name, qty, price) SELECT 'n' || g, g % 100, g / 100.0 "
        "FROM generate_series(1, ROWS) g",
    )
    sums = checksum(project, "shop_item", "id, price", ROWS)
    project.write_models(item_models(PRICE.replace("decimal_places=2", "decimal_places=4")))
    project.ok("makemigrations", "shop")
    project.ok("safemigrate", "--check")
    insert = "INSERT INTO shop_item (name, qty, price) VALUES ('w', 0, 1.25)"
    release(project, "r2", insert)

    assert project.one("SELECT count(*) FROM shop_item WHERE price_zdt_new <> price") == 0
    rounding = "UPDATE shop_item SET price_zdt_new = 1.2345 WHERE id = 3"
    message = refused(project, rounding)
    assert "does not fit numeric(10,2) (into price)" in message, message
    run(project, "UPDATE shop_item SET price_zdt_new = 4.5 WHERE id = 3")
    assert str(project.one("SELECT price FROM shop_item WHERE id = 3")) == "4.50"
    run(project, "UPDATE shop_item SET price_zdt_new = 0.03 WHERE id = 3")

    release(project, "r3", insert)
    assert column_type(project, "shop_item", "price") == "numeric(10,4)"
    assert checksum(project, "shop_item", "id, price::numeric(10,2)", ROWS) == sums
    project.ok("makemigrations", "--check", "--dry-run", "shop")
