"""Pure parts of the runner: the backoff schedule, the SQL impact classifier, the ZDT401
verdict, flags and messages. No database."""

from __future__ import annotations

import gc
import itertools

import pytest
from django.core.management.base import CommandError
from django.db import migrations, models
from django.test.utils import override_settings

from django_zero_downtime.management.commands.migrate import production_refusal
from django_zero_downtime.retry import backoff_schedule, sqlstate
from django_zero_downtime.runner import cost, heap
from django_zero_downtime.runner.cli import limits_from
from django_zero_downtime.runner.cost import MB, TableSize
from django_zero_downtime.runner.engagement import SizeLimits, judge_size
from django_zero_downtime.runner.locks import Session, advisory_key
from django_zero_downtime.runner.monitor import IDLE_SAMPLE_S, SAMPLE_S, idle_interval
from django_zero_downtime.runner.plan import PlanStep, _may_abort
from django_zero_downtime.sql.classify import classify_sql


# -- backoff -----------------------------------------------------------------------------------
def test_backoff_is_exponential_and_capped_at_its_bounds() -> None:
    assert backoff_schedule(5, 100, 1_000, rng=lambda: 1.0) == [0.1, 0.2, 0.4, 0.8, 1.0]
    assert backoff_schedule(5, 100, 1_000, rng=lambda: 0.0) == [0.05, 0.1, 0.2, 0.4, 0.5]


def test_backoff_jitter_stays_within_half_to_full_delay() -> None:
    values = itertools.cycle([0.1, 0.9, 0.5])
    delays = backoff_schedule(8, 200, 3_000, rng=lambda: next(values))
    ceilings = [min(3.0, 0.2 * 2**i) for i in range(8)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert delays != backoff_schedule(8, 200, 3_000, rng=lambda: 0.5)  # jitter decorrelates


def test_backoff_with_no_retries_is_empty_and_total_is_bounded() -> None:
    assert backoff_schedule(0, 500, 10_000) == []
    assert sum(backoff_schedule(50, 500, 10_000)) <= 50 * 10


# -- ZDT401 verdict ---------------------------------------------------------------------------
STEP = PlanStep("shop", "0002_x", 0, "AlterField", "Alter field x on order", atomic=True)
ADD = classify_sql('ALTER TABLE "shop_order" ADD COLUMN "x" int NULL')[0]
BIGINT = classify_sql('ALTER TABLE "shop_order" ALTER COLUMN "x" TYPE bigint USING "x"::bigint')[0]
DEFAULT = classify_sql('ALTER TABLE "shop_order" ALTER COLUMN "x" SET DEFAULT 1')[0]
BIG = TableSize(2_000_000, 70 * MB, 115 * MB, "statistics")
LIMITS = SizeLimits(1_000_000, 5.0)


def test_a_rewrite_of_a_large_table_is_refused_with_an_estimate_and_what_to_do() -> None:
    finding, verdict = judge_size(STEP, BIGINT, BIG, LIMITS, None)
    assert finding is not None and finding.rule == "ZDT401" and finding.severity == "error"
    assert finding.message == (
        "Alter field x on order would rewrite shop_order under ACCESS EXCLUSIVE for about "
        "4.6 s, blocking reads and writes (shop_order: 2,000,000 rows (statistics), 115 MB, "
        "rewrite est. 4.6 s; limits 1,000,000 rows, 5 s)."
    )
    assert finding.hint.startswith(
        "Change the type without a rewrite: add a new column of type bigint to shop_order, "
        "keep it in sync with x"
    )
    assert 'zero_downtime = {"ZDT401": "<reason>"}' in finding.hint
    assert "(see the operations guide)" not in finding.hint
    assert (finding.app, finding.migration, finding.operation) == ("shop", "0002_x", "AlterField")
    assert verdict.endswith("REFUSED")


def test_catalog_only_changes_pass_at_any_size_and_say_why() -> None:
    huge = TableSize(10**9, 10**12, 2 * 10**12, "statistics")
    for impact in (ADD, DEFAULT):
        finding, verdict = judge_size(STEP, impact, huge, LIMITS, None)
        assert finding is None
        assert verdict == "ZDT401 large-table (shop_order: catalog-only, instant at any size): ok"


def test_a_long_estimate_is_refused_below_the_row_limit() -> None:
    wide = TableSize(500_000, 900 * MB, 1200 * MB, "statistics")
    finding, _ = judge_size(STEP, BIGINT, wide, LIMITS, None)
    assert finding is not None and "rewrite est. 48.0 s" in finding.message


def test_an_approval_with_a_reason_passes_and_small_tables_pass() -> None:
    assert judge_size(STEP, BIGINT, BIG, LIMITS, "DBA ok")[1].endswith("approved: DBA ok")
    small = TableSize(1_000_000, 30 * MB, 50 * MB, "counted")
    assert judge_size(STEP, BIGINT, small, LIMITS, None)[0] is None


def test_empty_reason_is_refused_with_a_hint() -> None:
    finding, _ = judge_size(STEP, BIGINT, BIG, LIMITS, "")
    assert finding is not None and finding.hint.startswith("The approval of ZDT401 needs a reason")


@pytest.mark.parametrize(
    ("sql", "work"),
    [
        ('ALTER TABLE "t" ADD COLUMN "c" int NULL', None),
        ('ALTER TABLE "t" ADD COLUMN "c" int DEFAULT 0 NOT NULL', None),
        ('ALTER TABLE "t" ADD COLUMN "c" uuid DEFAULT gen_random_uuid()', "rewrite"),
        ('ALTER TABLE "t" ADD COLUMN IF NOT EXISTS "c" varchar(100) NULL', None),
        ('ALTER TABLE "t" ALTER COLUMN "c" DROP NOT NULL', None),
        ('ALTER TABLE "t" ALTER COLUMN "c" SET NOT NULL', "scan"),
        ('ALTER TABLE "t" ALTER COLUMN "c" TYPE bigint', "rewrite"),
        ('ALTER TABLE "t" DROP COLUMN "c"', None),
        ('CREATE INDEX "i" ON "t" ("c")', "index build"),
        ('CREATE INDEX CONCURRENTLY "i" ON "t" ("c")', None),
        ('ALTER TABLE "t" ADD CONSTRAINT "k" UNIQUE ("c")', "index build"),
        ('ALTER TABLE "t" ADD CONSTRAINT "k" UNIQUE USING INDEX "i"', None),
        ('ALTER TABLE "t" ADD CONSTRAINT "k" CHECK ("c" > 0)', "scan"),
        ('ALTER TABLE "t" ADD CONSTRAINT "k" CHECK ("c" > 0) NOT VALID', None),
        ('CREATE TRIGGER zdt_dw_x BEFORE INSERT OR UPDATE ON "t" FOR EACH ROW '
         "EXECUTE PROCEDURE zdt_dw_x()", None),
    ],
)  # fmt: skip
def test_what_costs_time_under_the_lock(sql: str, work: str | None) -> None:
    assert cost.work(classify_sql(sql)[0]) == work


@pytest.mark.parametrize(
    ("reltuples", "relpages", "pages", "rows"),
    [
        (2_000_000, 10_000, 10_000, 2_000_000),  # fresh statistics
        (1_800_000, 9_000, 10_000, 2_000_000),  # grown a little: scaled like the planner
        (-1, 0, 10_000, None),  # never analysed
        (25, 1, 10_000, None),  # analysed when tiny, then bulk-loaded
        (0, 0, 0, 0),  # empty
    ],
)
def test_statistics_are_trusted_only_when_they_describe_the_table(
    reltuples: float, relpages: int, pages: int, rows: int | None
) -> None:
    stats = cost.Stats(reltuples, relpages, pages * 8192, pages * 8192, 8192)
    assert cost.rows_from_stats(stats) == rows


# -- flags, messages, keys ----------------------------------------------------------------------
@override_settings(ZDT_LOCK_TIMEOUT_MS=700, ZDT_MAX_RETRIES=4)
def test_flags_override_settings_and_bad_flags_are_refused() -> None:
    limits = limits_from({"lock_timeout": None, "max_retries": None})
    assert (limits.lock_timeout_ms, limits.max_retries) == (700, 4)
    limits = limits_from({"lock_timeout": 50, "max_retries": 0})
    assert (limits.lock_timeout_ms, limits.max_retries) == (50, 0)
    with pytest.raises(CommandError, match="--lock-timeout 0 is not valid"):
        limits_from({"lock_timeout": 0})


def test_production_refusal_points_at_safemigrate_and_fix_forward() -> None:
    assert "manage.py safemigrate --release" in production_refusal(None, None, False)
    text = production_refusal("shop", "0003", True)
    assert text.startswith("Refusing to migrate backwards to shop 0003")
    assert "fix forward with a new migration" in text
    assert "manage.py safemigrate shop 0003" in text


def test_session_description_names_what_a_human_needs() -> None:
    session = Session(42, "celery", "idle in transaction", 12.34, None, "SELECT * FROM t")
    assert session.describe() == (
        "pid 42 [celery] idle in transaction, transaction 12.3s: SELECT * FROM t"
    )
    assert "no transaction" in Session(1, "", "active", None, None, "").describe()


def test_advisory_key_is_fixed_per_database_and_fits_bigint() -> None:
    assert advisory_key("db") == advisory_key("db") != advisory_key("other")
    assert -(2**63) <= advisory_key("db") < 2**63


def test_sqlstate_reads_the_driver_error_behind_django() -> None:
    class Driver(Exception):
        sqlstate = "55P03"

    try:
        raise RuntimeError("wrapped") from Driver()
    except RuntimeError as exc:
        assert sqlstate(exc) == "55P03"


@pytest.mark.parametrize(
    ("sql", "advice"),
    [
        ('ALTER TABLE "shop_order" ALTER COLUMN "x" SET NOT NULL', "NOT VALID on shop_order"),
        ('CREATE INDEX "i" ON "shop_order" ("x")', "on shop_order with CREATE INDEX CONCURRENTLY"),
        ('ALTER TABLE "shop_order" ADD CONSTRAINT "k" CHECK ("x" > 0)', "to shop_order NOT VALID"),
    ],
)
def test_each_costly_change_gets_its_own_advice(sql: str, advice: str) -> None:
    finding, _ = judge_size(STEP, classify_sql(sql)[0], BIG, LIMITS, None)
    assert finding is not None and advice in finding.hint


def test_the_idle_monitor_samples_within_a_quarter_of_the_budget_and_lock_timeout() -> None:
    assert idle_interval(2.0) == IDLE_SAMPLE_S  # the cap
    assert idle_interval(0.5) == 0.125  # the default 500 ms lock timeout
    assert idle_interval(0.1) == SAMPLE_S  # never more often than while someone waits
    assert idle_interval(0.0) == SAMPLE_S


def test_operations_whose_collection_may_abort_the_transaction_get_a_savepoint() -> None:
    assert not _may_abort(migrations.AddField("m", "f", models.IntegerField(null=True)))
    assert not _may_abort(migrations.CreateModel("M", [("id", models.AutoField())]))
    assert _may_abort(migrations.RunSQL("SELECT 1"))
    assert _may_abort(migrations.SeparateDatabaseAndState(database_operations=[]))


def test_a_run_collects_cyclic_garbage_less_often_and_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with heap.fewer_collections():
            assert gc.get_threshold() == heap.THRESHOLDS
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(200_000, 5, 50)  # a project's own, higher in part: never lowered
        with heap.fewer_collections():
            assert gc.get_threshold() == (200_000, 20, 50)
        assert gc.get_threshold() == (200_000, 5, 50)
    finally:
        gc.set_threshold(*before)
