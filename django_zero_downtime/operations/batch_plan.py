"""A backfill's plan: what to backfill and how gently, from the ``ZDT_*`` settings.

Split from :mod:`batches` (the engine), which re-exports :class:`BackfillPlan`,
:func:`make_plan` and :func:`retry_delays`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django_zero_downtime import conf, retry
from django_zero_downtime.exceptions import UnsafeOperationError
from django_zero_downtime.operations import throttle

START_BATCH = 1_000


@dataclass(frozen=True)
class BackfillPlan:
    """What to backfill (a stable key for the progress row, the table and its key column)
    and how gently (batch sizes, pause, lock timeout, budget and retry delays of a batch)."""

    key: str
    table: str
    pk_column: str
    batch_size: int
    pause_s: float
    lock_timeout_ms: int = 500
    retry_delays_s: tuple[float, ...] = ()
    adaptive: bool = False
    target_ms: int = 200
    contended_ms: int = 50
    max_batch: int = 100_000
    budget_ms: int = 2_000
    label: str = ""
    throttle: throttle.ThrottleSettings = throttle.NO_THROTTLE


def pk_column(model: Any, what: str) -> str:
    """The column the batches walk: the model's primary key. A composite primary key
    (Django 5.2's ``CompositePrimaryKey``) has no single column: refused, with the fix."""
    pk = model._meta.pk
    if getattr(pk, "column", None):
        return str(pk.column)
    fields = ", ".join(getattr(pk, "field_names", ()) or [str(pk.name)])
    raise UnsafeOperationError(
        f"{what}: {model._meta.label} has a composite primary key ({fields}), and "
        "backfills walk a table in batches of a single-column primary key. Give the model "
        "a single-column primary key (e.g. a surrogate id), or write this change as "
        "RunSQL/RunPython batching on your own key."
    )


def make_plan(
    key: str,
    table: str,
    pk_column: str,
    batch_size: int | None,
    pause_s: float | None,
    label: str = "",
) -> BackfillPlan:
    """A plan from the settings; ``batch_size`` (or ZDT_BACKFILL_BATCH_SIZE) fixes the size."""
    settings = conf.get_settings()
    fixed = batch_size if batch_size is not None else settings.BACKFILL_BATCH_SIZE
    return BackfillPlan(
        key=key,
        table=table,
        pk_column=pk_column,
        batch_size=fixed or min(START_BATCH, settings.BACKFILL_MAX_BATCH_SIZE),
        pause_s=pause_s if pause_s is not None else settings.BACKFILL_PAUSE_S,
        lock_timeout_ms=settings.LOCK_TIMEOUT_MS,
        retry_delays_s=retry_delays(settings),
        adaptive=fixed is None,
        target_ms=settings.BACKFILL_TARGET_MS,
        contended_ms=settings.BACKFILL_CONTENDED_TARGET_MS,
        max_batch=settings.BACKFILL_MAX_BATCH_SIZE,
        budget_ms=settings.MAX_BLOCKING_MS,
        label=label or key,
        throttle=throttle.ThrottleSettings.from_settings(),
    )


def retry_delays(settings: conf.ZdtSettings) -> tuple[float, ...]:
    """The runner's schedule (:mod:`django_zero_downtime.retry`): ZDT_MAX_RETRIES delays."""
    return tuple(retry.schedule_from_settings(settings))


CONTENDED_HOLD_S = 30.0
"""How long batches stay short after the last live session seen waiting on one."""


def contended_until(now: float, waiters: int, until: float) -> float:
    """Until when batches aim at the contended target: a live session waiting on a batch's
    row locks waits until the batch commits, so the batch's time is that session's wait;
    seen once, writers are likely to go on, so batches stay short CONTENDED_HOLD_S."""
    return now + CONTENDED_HOLD_S if waiters else until


def batch_aim_ms(now: float, until: float, target_ms: int, contended_ms: int) -> int:
    """The batch time to aim at: ``contended_ms`` (at most ``target_ms``) while contended."""
    return min(contended_ms, target_ms) if now < until else target_ms
