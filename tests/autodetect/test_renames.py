"""makemigrations on renames of fields named in constraints and indexes, for real.

A scratch project (the fixture of tests/lint/test_makemigrations.py) with a parent whose
unique ``code`` is another table's ``to_field``, and an item whose fields appear in
``unique_together``, ``Meta.constraints`` (a check, a conditional unique) and
``Meta.indexes`` (an expression index, an explicitly and an automatically named one).
Renaming them must give a deployable expand step (only DualWriteRenames: nothing the
previous release uses is removed), which the product's checker passes and ``migrate``
applies with ``makemigrations --check`` clean; a hand-written contract then leaves the
schema a fresh ``migrate`` of the final models would create.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from example_project.database import connect_kwargs
from tests.lint.test_makemigrations import django, project  # noqa: F401  (fixture)

MODELS = """\
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class Parent(models.Model):
    {code} = models.CharField(max_length=20, unique=True)


class Item(models.Model):
    parent = models.ForeignKey(Parent, models.CASCADE, to_field="{code}")
    {title} = models.CharField(max_length=50, db_index=True)
    slot = models.IntegerField(default=0)
    {level} = models.IntegerField(db_default=7)

    class Meta:
        unique_together = [("{title}", "slot")]
        constraints = [
            models.CheckConstraint(condition=Q({level}__gte=0), name="item_level_gte"),
            models.UniqueConstraint(fields=["{title}"], condition=Q(slot__gt=5), name="item_when"),
        ]
        indexes = [
            models.Index(Lower("{title}"), name="item_lower_title"),
            models.Index(fields=["{title}", "-slot"], name="item_title_slot_idx"),
            models.Index(fields=["slot", "{level}"]),
        ]
"""
CONTRACT = """\
import django_zero_downtime.operations
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("shop", "{expand}")]
    operations = [
        django_zero_downtime.operations.CompleteDualWriteRename("item", "title", "name"),
        django_zero_downtime.operations.CompleteDualWriteRename("item", "level", "rank"),
        django_zero_downtime.operations.CompleteDualWriteRename("parent", "code", "ref"),
    ]
"""
OLD = {"code": "code", "title": "title", "level": "level"}
NEW = {"code": "ref", "title": "name", "level": "rank"}


def ok(cwd: Path, *args: str, answers: str = "") -> str:
    done = django(cwd, *args, answers=answers)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def indexes(config: dict) -> list[tuple[str, str]]:
    with psycopg.connect(**connect_kwargs(config, config["NAME"])) as conn:
        rows = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename IN ('shop_item', 'shop_parent') ORDER BY 1"
        )
        return [(name, definition.split(" USING ")[1]) for name, definition in rows]


def test_rename_named_in_constraints_and_indexes_deploys_as_expand_then_contract(
    project: tuple,  # noqa: F811
) -> None:
    cwd, config = project
    models_py = cwd / "shop" / "models.py"
    models_py.write_text(MODELS.format(**OLD))
    ok(cwd, "makemigrations", "shop")
    ok(cwd, "migrate", "-v0")
    models_py.write_text(MODELS.format(**NEW))
    ok(cwd, "makemigrations", "shop", answers="y\n" * 3)

    written = sorted((cwd / "shop" / "migrations").glob("0002*.py"))
    assert len(written) == 1, written
    text = written[0].read_text()
    assert text.count("DualWriteRename(") == 3 and "atomic = False" in text
    for removal in ("Remove", "AlterUniqueTogether", "AddIndex", "AddConstraint"):
        assert removal not in text, text
    assert "0 error(s)" in ok(cwd, "safemigrate", "--check")
    ok(cwd, "migrate", "-v0")
    ok(cwd, "makemigrations", "--check", "--dry-run")

    contract = CONTRACT.format(expand=written[0].stem)
    (cwd / "shop" / "migrations" / "0003_contract.py").write_text(contract)
    with (cwd / "settings.py").open("a") as settings:
        settings.write("ZDT_DEPRECATION_CYCLES = 0\n")
    ok(cwd, "migrate", "-v0")
    ok(cwd, "makemigrations", "--check", "--dry-run")
    after = indexes(config)

    ok(cwd, "migrate", "shop", "zero", "--fake", "-v0")  # a fresh migrate of the final models:
    for path in (cwd / "shop" / "migrations").glob("000*.py"):
        path.unlink()
    with psycopg.connect(**connect_kwargs(config, config["NAME"]), autocommit=True) as conn:
        conn.execute("DROP TABLE shop_item, shop_parent")
    ok(cwd, "makemigrations", "shop")
    ok(cwd, "migrate", "-v0")
    assert after == indexes(config)


def test_primary_key_rename_is_refused_with_the_path_to_take(project: tuple) -> None:  # noqa: F811
    cwd, _ = project
    models_py = cwd / "shop" / "models.py"
    renamed = "from django.db import models\n\nclass Tag(models.Model):\n"
    models_py.write_text(renamed + "    id = models.BigAutoField(primary_key=True)\n")
    ok(cwd, "makemigrations", "shop")
    models_py.write_text(renamed + "    key = models.BigAutoField(primary_key=True)\n")
    refused = django(cwd, "makemigrations", "shop", answers="y\n")
    assert refused.returncode == 1
    assert "primary key shop.tag.id" in refused.stderr
    assert "db_column='id'" in refused.stderr
    assert not list((cwd / "shop" / "migrations").glob("0002*.py"))
    column = "    key = models.BigAutoField(primary_key=True, db_column='id')\n"
    models_py.write_text(renamed + column)
    ok(cwd, "makemigrations", "shop", answers="y\n")
    assert "RenameField(" in next((cwd / "shop" / "migrations").glob("0002*.py")).read_text()
