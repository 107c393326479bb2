"""Pure parts of the runner: the backoff schedule, the SQL impact classifier, the ZDT401
verdict, flags and messages. No database."""

from __future__ import annotations

import itertools

import pytest
from django.core.management.base import CommandError
from django.test.utils import override_settings

from django_zero_downtime.management.commands.migrate import production_refusal
from django_zero_downtime.retry import backoff_schedule, sqlstate
from django_zero_downtime.runner.cli import limits_from
from django_zero_downtime.runner.engagement import judge_size, rows_text
from django_zero_downtime.runner.locks import Session, advisory_key
from django_zero_downtime.runner.plan import PlanStep
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


# -- impact classifier ------------------------------------------------------------------------
# -- ZDT401 verdict ---------------------------------------------------------------------------
STEP = PlanStep("shop", "0002_x", 0, "AddField", "Add field x to order", atomic=True)
ADD = classify_sql('ALTER TABLE "shop_order" ADD COLUMN "x" int NULL')[0]
DEFAULT = classify_sql('ALTER TABLE "shop_order" ALTER COLUMN "x" SET DEFAULT 1')[0]


def test_large_table_refused_without_approval() -> None:
    finding, verdict = judge_size(STEP, ADD, 2_000_000, 1_000_000, None)
    assert finding is not None and finding.rule == "ZDT401" and finding.severity == "error"
    assert finding.message == (
        "Add field x to order would add a column to shop_order "
        "(shop_order: 2,000,000 rows, limit 1,000,000)."
    )
    assert (finding.app, finding.migration, finding.operation) == ("shop", "0002_x", "AddField")
    assert verdict.endswith("REFUSED")


def test_large_table_accepted_with_reason_and_small_or_cheap_ones_pass() -> None:
    assert judge_size(STEP, ADD, 2_000_000, 1_000_000, "DBA ok")[0] is None
    assert judge_size(STEP, ADD, 1_000_000, 1_000_000, None)[0] is None
    assert judge_size(STEP, DEFAULT, 9_000_000, 1_000_000, None)[0] is None


def test_empty_reason_is_refused_with_a_hint() -> None:
    finding, _ = judge_size(STEP, ADD, 2_000_000, 1_000_000, "")
    assert finding is not None and finding.hint.startswith("The approval of ZDT401 needs a reason")


def test_capped_count_is_reported_as_more_than_the_limit() -> None:
    assert rows_text(101, 100) == "more than 100 rows"
    assert rows_text(100, 100) == "100 rows"


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
