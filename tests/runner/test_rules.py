"""Acceptance: backwards targets, the table-size rule (ZDT401), deploy cycles and the drop gate,
``--plan``; all against real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import override_settings

from django_zero_downtime import ledger as cycles
from django_zero_downtime.models import DeployCycle
from tests.runner.conftest import (
    ADD_NOTE,
    CREATE_ITEM,
    MigrationsPackage,
    applied,
    fill,
    migration,
    safemigrate,
)

pytestmark = pytest.mark.django_db(transaction=True)

TO_BIGINT = '        migrations.AlterField("item", "n", models.BigIntegerField(default=0)),'


def column_type(table: str, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = %s",
            [table, column],
        )
        row = cursor.fetchone()
        return row[0] if row else ""


@pytest.fixture
def items(rapp: MigrationsPackage) -> MigrationsPackage:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    return rapp


# -- backwards --------------------------------------------------------------------------------
def test_backwards_target_is_refused(items: MigrationsPackage, tmp_path: Path) -> None:
    items.write(**{"0002_note": ADD_NOTE})
    assert safemigrate("rapp").code == 0
    report = tmp_path / "r.json"
    result = safemigrate("rapp", "0001", "--report", str(report))
    assert result.code == 1
    assert "fix forward with a new migration" in result.err
    assert "rapp.0002_note is applied" in result.err
    assert applied() == ["0001_item", "0002_note"]
    assert column_type("rapp_item", "note") == "text"
    finding = json.loads(report.read_text())["findings"][0]
    assert finding["rule"] == "ZDT402" and finding["migration"] == "0002_note"


def test_zero_target_is_refused_and_forward_target_is_not(items: MigrationsPackage) -> None:
    assert safemigrate("rapp", "zero").code == 1
    items.write(**{"0002_note": ADD_NOTE})
    assert safemigrate("rapp", "0002").code == 0
    assert applied() == ["0001_item", "0002_note"]


# -- ZDT401 large-table -----------------------------------------------------------------------
@override_settings(ZDT_LARGE_TABLE_ROWS=100)
def test_rewrite_of_a_table_over_the_threshold_is_refused(items: MigrationsPackage) -> None:
    fill("rapp_item", 200)
    items.write(**{"0002_bigint": migration(["0001_item"], TO_BIGINT)})
    result = safemigrate("rapp")
    assert result.code == 1
    assert "ZDT401 large-table" in result.err
    assert "would rewrite rapp_item under ACCESS EXCLUSIVE for about" in result.err
    assert "(rapp_item: 200 rows (statistics)" in result.err
    assert 'zero_downtime = {"ZDT401": "<reason>"}' in result.err
    assert applied() == ["0001_item"]
    assert column_type("rapp_item", "n") == "integer"


@override_settings(ZDT_LARGE_TABLE_ROWS=100)
def test_rewrite_over_the_threshold_is_accepted_with_an_approval(items: MigrationsPackage) -> None:
    fill("rapp_item", 200)
    approval = '    zero_downtime = {"ZDT401": "approved by DBA: 200 rows is fine"}\n'
    items.write(**{"0002_bigint": migration(["0001_item"], TO_BIGINT, extra=approval)})
    result = safemigrate("rapp")
    assert result.code == 0, result.err
    assert column_type("rapp_item", "n") == "bigint"


@override_settings(ZDT_LARGE_TABLE_ROWS=100)
def test_per_operation_approval_covers_the_size_rule(items: MigrationsPackage) -> None:
    """The approvals reader is the checker's: ``suppress(op, {...})`` approves ZDT401 too."""
    fill("rapp_item", 200)
    approved = TO_BIGINT.strip().rstrip(",")
    operation = f'        suppress({approved}, {{"ZDT401": "approved by DBA: 200 rows"}}),'
    extra = "from django_zero_downtime.lint import suppress\n"
    items.write(**{"0002_bigint": extra + migration(["0001_item"], operation)})
    result = safemigrate("rapp")
    assert result.code == 0, result.err
    assert column_type("rapp_item", "n") == "bigint"


@override_settings(ZDT_LARGE_TABLE_ROWS=100, ZDT_RULES_IGNORE=["ZDT4"])
def test_rules_ignore_prefix_switches_the_size_rule_off_not_the_backwards_refusal(
    items: MigrationsPackage,
) -> None:
    fill("rapp_item", 200)
    items.write(**{"0002_bigint": migration(["0001_item"], TO_BIGINT)})
    assert safemigrate("rapp").code == 0
    assert column_type("rapp_item", "n") == "bigint"
    result = safemigrate("rapp", "0001")
    assert result.code == 1 and "ZDT402 backwards-migration" in result.err


@override_settings(ZDT_LARGE_TABLE_ROWS=100)
def test_approval_without_a_reason_is_no_approval(items: MigrationsPackage) -> None:
    fill("rapp_item", 200)
    approval = '    zero_downtime = {"ZDT401": "  "}\n'
    items.write(**{"0002_bigint": migration(["0001_item"], TO_BIGINT, extra=approval)})
    result = safemigrate("rapp")
    assert result.code == 1
    assert "needs a reason" in result.err


@override_settings(ZDT_LARGE_TABLE_ROWS=1_000)
def test_table_under_the_threshold_needs_no_approval(items: MigrationsPackage) -> None:
    fill("rapp_item", 200)
    items.write(**{"0002_bigint": migration(["0001_item"], TO_BIGINT)})
    assert safemigrate("rapp").code == 0
    assert column_type("rapp_item", "n") == "bigint"


@override_settings(ZDT_LARGE_TABLE_ROWS=100)
def test_never_analysed_table_is_counted(items: MigrationsPackage) -> None:
    with connection.cursor() as cursor:  # no ANALYZE: reltuples stays -1
        cursor.execute("INSERT INTO rapp_item (n) SELECT g FROM generate_series(1, 150) g")
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'rapp_item'")
        assert cursor.fetchone()[0] < 0
    items.write(**{"0002_bigint": migration(["0001_item"], TO_BIGINT)})
    result = safemigrate("rapp")
    assert result.code == 1
    assert "would rewrite rapp_item under ACCESS EXCLUSIVE" in result.err
    assert "(rapp_item: 150 rows (counted)" in result.err


@override_settings(ZDT_LARGE_TABLE_ROWS=100)
def test_a_nullable_column_is_added_to_a_large_table(items: MigrationsPackage) -> None:
    fill("rapp_item", 200)
    items.write(**{"0002_note": ADD_NOTE})
    result = safemigrate("rapp", "--plan")
    assert result.code == 0, result.err
    assert "rule ZDT401 large-table (rapp_item: catalog-only, instant at any size): ok" in (
        result.out
    )
    assert safemigrate("rapp").code == 0
    assert column_type("rapp_item", "note") == "text"


@override_settings(ZDT_LARGE_TABLE_ROWS=100)
def test_new_table_and_concurrent_index_are_not_judged(items: MigrationsPackage) -> None:
    fill("rapp_item", 200)
    index = (
        "        AddIndexConcurrently('item', models.Index(fields=['n'], name='rapp_item_n_idx')),"
    )
    source = migration(["0001_item"], index, atomic=False).replace(
        "\n\n\n", "\nfrom django.contrib.postgres.operations import AddIndexConcurrently\n\n\n"
    )
    items.write(**{"0002_index": source})
    result = safemigrate("rapp")
    assert result.code == 0, result.err
    assert applied() == ["0001_item", "0002_index"]


@override_settings(ZDT_LARGE_TABLE_ROWS=100)
def test_varchar_widening_is_not_a_rewrite(rapp: MigrationsPackage) -> None:
    create = CREATE_ITEM.replace(
        '("n", models.IntegerField(default=0)),',
        '("n", models.IntegerField(default=0)),\n                '
        '("code", models.CharField(max_length=10, null=True)),',
    )
    rapp.write(**{"0001_item": create})
    assert safemigrate("rapp").code == 0
    fill("rapp_item", 200)
    widen = (
        '        migrations.AlterField("item", "code", models.CharField(max_length=50, null=True)),'
    )
    rapp.write(**{"0002_widen": migration(["0001_item"], widen)})
    result = safemigrate("rapp")
    assert result.code == 0, result.err


# -- deploy cycles and the drop gate ----------------------------------------------------------
def test_each_distinct_release_label_counts_once(items: MigrationsPackage) -> None:
    assert safemigrate("rapp", "--release", "r1").code == 0
    assert safemigrate("rapp", "--release", "r1").code == 0
    assert cycles.current_cycle("default") == 1
    assert safemigrate("rapp", "--release", "r2").code == 0
    assert cycles.current_cycle("default") == 2
    stored = DeployCycle.objects.get(release="r2")
    assert stored.finished_at is not None and stored.report is not None
    assert stored.report["outcome"] == "applied"


OPS_HEADER = "import django_zero_downtime.operations\n"
DEPRECATE = migration(
    ["0002_note"],
    '        django_zero_downtime.operations.DeprecateColumn("item", "note"),',
).replace("\n\n\n", "\n" + OPS_HEADER + "\n\n", 1)
DROP = migration(
    ["0003_deprecate"],
    '        django_zero_downtime.operations.DropDeprecatedColumn("item", "note"),',
).replace("\n\n\n", "\n" + OPS_HEADER + "\n\n", 1)


@override_settings(ZDT_DEPRECATION_CYCLES=2)
def test_drop_of_a_column_deprecated_one_cycle_ago_is_refused(items: MigrationsPackage) -> None:
    items.write(**{"0002_note": ADD_NOTE, "0003_deprecate": DEPRECATE})
    assert safemigrate("rapp", "--release", "r1").code == 0
    items.write(**{"0004_drop": DROP})
    result = safemigrate("rapp", "--release", "r2")
    assert result.code == 1
    assert "Refusing to drop column rapp_item.note" in result.err
    assert "1 of the required 2 deploy cycles" in result.err
    assert applied() == ["0001_item", "0002_note", "0003_deprecate"]
    assert column_type("rapp_item", "note") == "text"
    assert cycles.current_cycle("default") == 1  # a refused release is not a deploy cycle
    result = safemigrate("rapp", "--release", "r2", "--plan")
    assert result.code == 1 and "REFUSED" in result.out
    assert safemigrate("rapp", "--release", "r3").code == 1  # still 1 cycle: r2 never ran
    with override_settings(ZDT_DEPRECATION_CYCLES=1):
        result = safemigrate("rapp", "--release", "r2")
    assert result.code == 0, result.err
    assert column_type("rapp_item", "note") == ""


# -- --plan ------------------------------------------------------------------------------------
@override_settings(ZDT_LARGE_TABLE_ROWS=100)
def test_plan_prints_locks_and_rules_and_changes_nothing(items: MigrationsPackage) -> None:
    fill("rapp_item", 50)
    items.write(**{"0002_note": ADD_NOTE, "0003_bigint": migration(["0002_note"], TO_BIGINT)})
    result = safemigrate("rapp", "--plan")
    assert result.code == 0, result.err
    assert "rapp.0002_note (atomic)" in result.out
    assert "Add field note to item [ACCESS EXCLUSIVE on rapp_item]" in result.out
    assert 'ALTER TABLE "rapp_item" ADD COLUMN "note" text NULL' in result.out
    assert "rule ZDT401 large-table (rapp_item: catalog-only, instant at any size): ok" in (
        result.out
    )
    assert "rule ZDT401 large-table (rapp_item: 50 rows (statistics)" in result.out
    assert "limits 100 rows, 5 s): ok" in result.out
    assert applied() == ["0001_item"]
    assert column_type("rapp_item", "note") == ""
    fill("rapp_item", 100)
    result = safemigrate("rapp", "--plan")
    assert result.code == 1
    assert "rule ZDT401 large-table (rapp_item: 150 rows (statistics)" in result.out
    assert "limits 100 rows, 5 s): REFUSED" in result.out
