"""The backfill engine's messages about a batch it retries or gives up on (pure)."""

from __future__ import annotations

from typing import Any

from django_zero_downtime import retry
from django_zero_downtime.operations.batch_plan import BackfillPlan


def retry_reason(plan: BackfillPlan, size: int, state: str | None, seconds: float) -> str:
    """Why a batch is retried (``size``: the batch's; a cancelled one is retried at half)."""
    if state == retry.DEADLOCK_DETECTED:
        return "deadlock with another transaction"
    if state in retry.LOCK_FAILURES:
        return "rows locked by another transaction"
    return (
        f"batch cancelled after {seconds:.2f} s (over the blocking budget, ZDT_MAX_BLOCKING_MS "
        f"= {plan.budget_ms}, or by safemigrate's monitor): rolled back, next batch "
        f"{max(size // 2, 1):,} rows"
    )


def gave_up(plan: BackfillPlan, last_pk: Any, attempts: int, state: str | None) -> str:
    """The error of a batch that failed on every attempt; the rerun resumes from it."""
    what = (
        "its rows stayed locked by another transaction"
        if state in retry.LOCK_FAILURES
        else "it was cancelled each time (over the blocking budget)"
    )
    return (
        f"Backfill {plan.label} (key {plan.key!r}) gave up on the batch after {plan.pk_column}="
        f"{last_pk} of table {plan.table}: {what} for {attempts} attempts "
        f"(lock_timeout {plan.lock_timeout_ms} ms, ZDT_MAX_RETRIES). Run the migration "
        "again when the long transaction has ended; the backfill resumes from this batch."
    )
