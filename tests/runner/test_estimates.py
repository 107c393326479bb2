"""``--plan`` and ``--rehearse`` estimate from rates measured on the server, agree with each
other (the same real row count, honest locks) and with the run that follows (within 2x)."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from django_zero_downtime.operations import estimate
from django_zero_downtime.operations.backfill_ledger import TABLE as LEDGER
from django_zero_downtime.operations.batch_plan import BackfillPlan
from django_zero_downtime.runner.report import RunReport, headline
from example_project.lifecycle.prestep import PreStep
from tests.runner.conftest import CREATE_ITEM, MigrationsPackage, migration, safemigrate

pytestmark = pytest.mark.django_db(transaction=True)
ZDT = "import django_zero_downtime.operations as zdt\nfrom django.db"
RENAME = migration(
    ["0001_item"], '        zdt.DualWriteRename("item", "n", "amount"),', atomic=False
).replace("from django.db", ZDT)
INDEX = migration(
    ["0002_rename"],
    '        AddIndexConcurrently("item", models.Index(fields=["amount"], name="item_amount_ix")),',
    atomic=False,
).replace("from django.db", "from django.contrib.postgres.operations import *\nfrom django.db")
DROP_INDEX = migration(
    ["0003_index"], '        RemoveIndexConcurrently("item", "item_amount_ix"),', atomic=False
).replace("from django.db", "from django.contrib.postgres.operations import *\nfrom django.db")
COMPLETE = migration(
    ["0004_drop_index"], '        zdt.CompleteDualWriteRename("item", "n", "amount"),', atomic=False
).replace("from django.db", ZDT)
ESTIMATED = re.compile(r"estimated ~([\d.]+) s")


def bulk_load(rows: int) -> None:
    """Rows as a bulk load leaves them: never analysed (``reltuples`` says nothing)."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO rapp_item (n) SELECT g FROM generate_series(1, %s) g", [rows])


def rehearsed(*args: str) -> list[dict[str, Any]]:
    result = safemigrate("rapp", "--rehearse", "--format", "json", *args)
    return [op for m in json.loads(result.out)["migrations"] for op in m["operations"]]


def renaming(rapp: MigrationsPackage, rows: int, batch: str = "") -> None:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    bulk_load(rows)
    rapp.write(**{"0002_rename": RENAME.replace('"amount")', f'"amount"{batch})')})


ROWS = 200_000
TRIALS = 3
"""Medians of three estimates and three runs: one slow moment of a shared machine does not
decide (each run about 2 s)."""


def reload(rows: int, keep_history: bool = False) -> None:
    """``rapp_item`` dropped and bulk-loaded again, 0002 not applied; the ledger emptied, or
    its rows kept as earlier backfills of another key (``keep_history``)."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE rapp_item CASCADE")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'rapp'")
        if keep_history:
            cursor.execute(f"UPDATE {LEDGER} SET key = 'earlier:' || key")
        else:
            cursor.execute(f"DELETE FROM {LEDGER}")
    assert safemigrate("rapp", "0001_item").code == 0
    bulk_load(rows)


def planned_s() -> tuple[float, str]:
    """``--plan``'s estimate of the rename's backfill, and its line (the row count of a
    reloaded table may be the statistics' rather than a count)."""
    out = safemigrate("rapp", "--plan").out
    [line] = [line for line in out.splitlines() if "backfill rapp_item: " in line]
    return float(ESTIMATED.findall(line)[0]), line


def run_s(report: Path) -> float:
    assert safemigrate("rapp", "--report", str(report)).code == 0
    [step] = json.loads(report.read_text())["timeline"]["steps"]
    return float(step["end_s"] - step["start_s"])


def median(values: list[float]) -> float:
    return float(statistics.median(values))


@pytest.mark.parametrize("batch", ["", ", batch_size=1000"], ids=["adaptive", "fixed-1000"])
def test_rehearsal_and_plan_estimate_a_backfill_within_2x_of_the_run(
    rapp: MigrationsPackage, tmp_path: Path, batch: str
) -> None:
    renaming(rapp, ROWS, batch)
    [op] = rehearsed()
    plans, runs = [], []
    for trial in range(TRIALS):
        if trial:
            reload(ROWS)
        plans.append(planned_s()[0])
        runs.append(run_s(tmp_path / "report.json"))
    took, planned = median(runs), median(plans)
    figures = f"rehearsal {op['estimate_s']:.2f} s, plans {plans}, runs {runs}"
    assert 0.5 <= runs[0] / op["estimate_s"] <= 2.0, figures
    assert 0.5 <= took / planned <= 2.0, figures


def test_plan_calibrates_its_reads_from_earlier_backfills_on_this_database(
    rapp: MigrationsPackage, tmp_path: Path
) -> None:
    renaming(rapp, ROWS)
    assert "x70 fitted on the benchmark" in planned_s()[1]
    runs = [run_s(tmp_path / "report.json")]
    plans = []
    for earlier in range(1, TRIALS):
        reload(ROWS, keep_history=True)
        planned, line = planned_s()
        runs.append(run_s(tmp_path / "report.json"))
        plans.append(planned)
        assert f"measured from {earlier} earlier backfill" in line, line
    figures = f"plans {plans}, runs {runs}"
    assert 0.5 <= median(runs) / median(plans) <= 2.0, figures


def test_plan_and_rehearsal_count_the_same_rows_and_say_the_backfill(
    rapp: MigrationsPackage,
) -> None:
    renaming(rapp, 25)
    plan = safemigrate("rapp", "--plan").out
    assert "backfill rapp_item: 25 rows in batches of 1,000 (adaptive to 200 ms)" in plan
    [step] = json.loads(safemigrate("rapp", "--plan", "--format", "json").out)["steps"]
    assert step["lock"] == "ACCESS EXCLUSIVE"  # its ADD COLUMN; the batches: ROW EXCLUSIVE
    assert step["backfill"].startswith("backfill rapp_item: 25 rows in batches of 1,000")
    [op] = rehearsed()
    text = op["not_rehearsed"]
    assert "backfills rapp_item: 25 rows in batches of 1,000 (adaptive to 200 ms)" in text
    assert "timed on a sample batch of 25 rows" in text and "~0 rows" not in text
    assert "ACCESS EXCLUSIVE on rapp_item for ALTER TABLE ADD COLUMN" in text
    assert "SHARE ROW EXCLUSIVE on rapp_item for CREATE TRIGGER (brief" in text
    full = safemigrate("rapp", "--plan", verbosity=2).out
    locks = [line for line in full.splitlines() if "-- lock:" in line and "TRIGGER" in line]
    assert locks and "DROP TRIGGER ACCESS EXCLUSIVE on rapp_item" in locks[0]
    assert "COMMENT SHARE UPDATE EXCLUSIVE on rapp_item" in locks[0]
    assert "CREATE OR REPLACE FUNCTION NONE" in locks[0]  # a function locks no table


def test_the_rehearsal_says_what_builds_drops_and_contract_steps_lock(
    rapp: MigrationsPackage,
) -> None:
    renaming(rapp, 5_000)
    assert safemigrate("rapp").code == 0
    rapp.write(**{"0003_index": INDEX, "0004_drop_index": DROP_INDEX, "0005_complete": COMPLETE})
    build, drop, complete = rehearsed()
    assert "builds the index concurrently on rapp_item (5,000 rows" in build["not_rehearsed"]
    assert build["estimate_s"] > 0 and "built plainly here in" in build["not_rehearsed"]
    assert "drops the index concurrently: no scan" in drop["not_rehearsed"]
    assert drop["estimate_s"] == 0 and "built" not in drop["not_rehearsed"]
    text = complete["not_rehearsed"]
    assert "without blocking" not in text and "reads and writes wait a moment" in text
    assert re.search(r"ACCESS EXCLUSIVE on rapp_item for [^;(]*ALTER TABLE DROP COLUMN", text)
    assert "SHARE UPDATE EXCLUSIVE on rapp_item for ALTER TABLE VALIDATE CONSTRAINT" in text


@override_settings(ZDT_DEPRECATION_CYCLES=0)
def test_plan_of_the_contract_step_shows_every_lock_and_each_rule_line_once(
    rapp: MigrationsPackage,
) -> None:
    renaming(rapp, 100)
    assert safemigrate("rapp").code == 0
    rapp.write(**{"0003_complete": COMPLETE.replace("0004_drop_index", "0002_rename")})
    out = safemigrate("rapp", "--plan", verbosity=2).out
    assert "ALTER TABLE DROP COLUMN ACCESS EXCLUSIVE on rapp_item" in out
    assert "unknown" not in out and "REFUSED" not in out
    rules = [line.strip() for line in out.splitlines() if line.strip().startswith("rule ")]
    assert rules and len(rules) == len(set(rules))


def test_a_backfill_step_says_the_lock_of_its_batches(rapp: MigrationsPackage) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    bulk_load(3_000)
    fill = '        zdt.BatchedBackfill("item", {"n": 1}),'
    rapp.write(**{"0002_fill": migration(["0001_item"], fill, atomic=False).replace(
        "from django.db", ZDT)})  # fmt: skip
    out = safemigrate("rapp", "--plan").out
    assert "[ROW EXCLUSIVE on rapp_item]" in out and "[NONE]" not in out
    assert "backfill rapp_item: 3,000 rows in batches of 1,000 (adaptive to 200 ms)" in out


def test_the_engine_loop_is_simulated_at_the_rate() -> None:
    fixed = BackfillPlan("k", "t", "id", batch_size=1_000, pause_s=0.01)
    rate = estimate.Rate(row_s=5e-6, batch_s=0.004, how="measured")
    assert estimate.seconds(10_000, fixed, rate) == pytest.approx(10 * 0.014 + 0.05)
    adaptive = BackfillPlan("k", "t", "id", 1_000, 0.0, adaptive=True, target_ms=200)
    # the batches grow towards 200 ms: far fewer per-batch costs than 1,000-row batches
    assert 5.0 < estimate.seconds(1_000_000, adaptive, rate) < 5.0 + 40 * 0.004
    said = estimate.describe(2_000, fixed, rate)
    assert said.startswith("2,000 rows in batches of 1,000, pause 0.01 s, estimated ~0.")


def test_a_run_with_nothing_to_apply_does_not_say_applied() -> None:
    report = RunReport(database="default")
    assert headline(report) == "safemigrate: done (nothing to apply)"
    report.applied = ["rapp.0002_x"]
    assert headline(report) == "safemigrate: applied (1 migration applied)"
    idle = PreStep("people", None, "r3", 0, 1.2, "", {"applied": []})
    assert idle.outcome == "nothing to apply"
    assert PreStep("people", None, "r3", 0, 1.2, "", {"applied": ["x"]}).outcome == "applied"
