"""The one retry schedule and lock-failure test, shared by the runner and the batch engine.

A statement that fails on ``lock_timeout`` (SQLSTATE 55P03) or is chosen as a deadlock
victim (40P01) did nothing and may be retried; :func:`backoff_schedule` says how long to
wait before each retry (exponential, capped, with jitter, so two runs do not retry in lock
step). The runner (``runner/apply.py``) retries DDL and whole atomic migrations with it;
the batch engine (``operations/batches.py``) retries one batch.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"
DEADLOCK_DETECTED = "40P01"
LOCK_FAILURES = (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED)


def backoff_schedule(
    retries: int, base_ms: int, max_ms: int, rng: Callable[[], float] = random.random
) -> list[float]:
    """Delays in seconds before retry 1..``retries``: ``min(max, base·2^i)`` with equal jitter.

    Each delay lies in ``[d/2, d]`` for its capped exponential ``d``, so the schedule is
    bounded (sum ≤ retries·max_ms) and retries of two runs do not stay in lock step.
    """
    delays = []
    for attempt in range(retries):
        ceiling = min(max_ms, base_ms * 2**attempt)
        delays.append((ceiling / 2 + rng() * ceiling / 2) / 1000)
    return delays


def schedule_from_settings(settings: Any, rng: Callable[[], float] = random.random) -> list[float]:
    """:func:`backoff_schedule` of ``ZDT_MAX_RETRIES``, ``ZDT_RETRY_BACKOFF_MS`` and
    ``ZDT_RETRY_MAX_DELAY_MS`` (a :class:`~django_zero_downtime.conf.ZdtSettings`)."""
    return backoff_schedule(
        settings.MAX_RETRIES, settings.RETRY_BACKOFF_MS, settings.RETRY_MAX_DELAY_MS, rng
    )


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (Django wraps the driver's error as ``__cause__``)."""
    for error in (exc, exc.__cause__):
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if code:
            return str(code)
    return None


def is_lock_failure(exc: BaseException) -> bool:
    """A lock timeout or a deadlock: the statement did nothing and may be retried."""
    return sqlstate(exc) in LOCK_FAILURES


def is_cancel(exc: BaseException) -> bool:
    """Cancelled (``statement_timeout`` or ``pg_cancel_backend``): rolled back."""
    return sqlstate(exc) == QUERY_CANCELED
