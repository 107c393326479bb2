"""How long a backfill will take: the batch engine's loop, simulated from a measured rate.

A backfill costs per batch (the bounds query that finds the batch's keys, the ledger row,
the commit: :attr:`Rate.batch_s`), per row (the UPDATE: :attr:`Rate.row_s`) and the pause
between batches; adaptive batches grow towards ``ZDT_BACKFILL_TARGET_MS`` exactly like the
engine's (:func:`batches.next_batch_size`). :func:`measure` times the engine's own bounds
query at the start and at three points of the key range and, when it may write, one
batch's UPDATE in a savepoint that is rolled back (the rehearsal). ``--plan`` writes
nothing, so there it times reading the batch's rows and multiplies by a write/read ratio
(:func:`calibrate`): measured from this database's earlier backfills in the ledger when
there are any, else :data:`READ_TO_UPDATE`, fitted on ``benchmarks/estimate_accuracy.py``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from django_zero_downtime.operations import backfill_ledger as ledger
from django_zero_downtime.operations.batch_plan import BackfillPlan, make_plan
from django_zero_downtime.operations.batches import Run, _bounds, jsonable, next_batch_size
from django_zero_downtime.sql.identifiers import quote_ident

ROW_S = 6e-6
"""UPDATE cost per row of an empty sample (5 µs for 86- and 455-byte rows, PostgreSQL 15
on a shared 2-core machine)."""
READ_TO_UPDATE = 70
"""``--plan`` writes nothing: a backfill's row costs about this many times reading it in
full, when no earlier backfill on this database says better (:func:`calibrate`). Fitted on
``benchmarks/estimate_accuracy.py`` (never-analysed ``rapp_item``, shared 2-core machine,
PostgreSQL 15): run / plan 0.84-1.12 adaptive, 1.03-1.75 with 1,000-row batches at 200,000
rows; 0.82 and 2.04 at 1,000,000 (35, timed alone on sample batches, was 2-5x low)."""
HISTORY_MIN_ROWS = 20_000
HISTORY_RUNS = 3
RATIO_RANGE = (READ_TO_UPDATE / 2, READ_TO_UPDATE * 2)
"""A ratio from history is kept within 2x of the fitted one: one read timed at a slow or a
fast moment must not swing the estimate further, and a resumed or paused backfill's ledger
row spans more than its work."""


@dataclass(frozen=True)
class Calibration:
    """What ``--plan`` multiplies its timed reads by, and where that comes from."""

    read_to_update: float = READ_TO_UPDATE
    how: str = f"x{READ_TO_UPDATE} fitted on the benchmark"


ENGINE_BATCH_S = 0.006
"""Per batch besides the bounds query: timeouts, ledger row, commit, events. 2 ms profiled
alone, but the commit waits for its WAL flush (a one-row write and commit took 8 ms on the
shared 2-core machine's disk); 6 ms fits 1,000-row batches of estimate_accuracy.py at
200,000 and 1,000,000 rows. On a quiet server with a fast disk it makes small fixed batches
look slower than they are (within 2x: the rows cost more than the commits)."""
SAMPLE_MAX_ROWS = 50_000
SETTLE_SAMPLES = 2
BATCH = "<batch of primary keys>"
"""Where an operation's note of its batch UPDATE puts the batch's condition."""
"""The largest sample batch (about 0.3 s on a shared 2-core machine)."""


@dataclass(frozen=True)
class Rate:
    row_s: float
    batch_s: float
    how: str
    """How the rate was found, for the estimate line."""


def plan_of(op: Any, table: str, pk_column: str) -> BackfillPlan:
    """The backfill plan the operation will use (its batch_size/pause_s, else the settings)."""
    sizes = getattr(op, "batch_size", None), getattr(op, "pause_s", None)
    return make_plan("estimate", table, pk_column, *sizes)


def seconds(rows: int, plan: BackfillPlan, rate: Rate) -> float:
    """The engine's loop over ``rows`` rows at ``rate``."""
    if not plan.adaptive:
        batches = math.ceil(rows / max(plan.batch_size, 1))
        return batches * (rate.batch_s + plan.pause_s) + rows * rate.row_s
    total, left, size = 0.0, rows, plan.batch_size
    while left > 0:
        done = min(size, left)
        took = rate.batch_s + done * rate.row_s
        total, left = total + took + plan.pause_s, left - done
        size = next_batch_size(size, done, took, plan.target_ms / 1000, plan.max_batch)
    return total


def describe(rows: int, plan: BackfillPlan, rate: Rate) -> str:
    """``200,000 rows in batches of 1,000 (adaptive to 200 ms), estimated ~1.6 s (…)``."""
    sizing = f" (adaptive to {plan.target_ms} ms)" if plan.adaptive else ""
    pause = f", pause {plan.pause_s:g} s" if plan.pause_s else ""
    return (
        f"{rows:,} rows in batches of {plan.batch_size:,}{sizing}{pause}, estimated "
        f"~{seconds(rows, plan, rate):.1f} s ({rate.how}: {rate.row_s * 1e6:.1f} µs a row, "
        f"{rate.batch_s * 1000:.0f} ms a batch)"
    )


def measure(
    cursor: Any,
    plan: BackfillPlan,
    write: bool,
    update: str = "",
    reads: Calibration = Calibration(),
) -> Rate:
    """The rate on this server for this table, at the batch size that matters: the fixed
    size, or for adaptive batches the size the engine settles at (a batch of the target
    time, from a first sample of the starting size). ``write``: time the UPDATE too (in a
    savepoint, rolled back: only inside a transaction that is rolled back anyway): the
    operation's own ``update`` when it says it (``…WHERE <batch of primary keys>…``), else
    a column set to itself. Without ``write``, reads are timed and scaled by ``reads``."""
    top = _top_key(cursor, plan)
    if top is None:
        return Rate(ROW_S, ENGINE_BATCH_S, "empty table")
    work = Work(write, update, reads)
    first = _sample(cursor, plan, top, min(plan.batch_size, SAMPLE_MAX_ROWS), work)
    if not plan.adaptive or first.keys < plan.batch_size:
        return first.rate(work)
    sample = first
    for _ in range(SETTLE_SAMPLES):
        size = _settled_size(plan, sample.rate(work, first))
        if size <= sample.keys * 1.5:
            break
        sample = _sample(cursor, plan, top, size, work)
    return sample.rate(work, first)


def _settled_size(plan: BackfillPlan, rate: Rate) -> int:
    """The batch size at which one batch takes the target time at ``rate``."""
    room = plan.target_ms / 1000 - rate.batch_s
    steady = int(room / max(rate.row_s, 1e-7))
    return max(min(steady, plan.max_batch, SAMPLE_MAX_ROWS), plan.batch_size)


@dataclass(frozen=True)
class Work:
    """What a sample batch times: the UPDATE (``write``, the operation's ``update`` or a
    column set to itself) or a read of its rows, scaled by ``reads``."""

    write: bool
    update: str
    reads: Calibration


@dataclass(frozen=True)
class Sample:
    """One timed batch: its keys, the bounds query (mean over the key range), the UPDATE."""

    keys: int
    bounds_s: float
    update_s: float | None

    def rate(self, work: Work, smaller: Sample | None = None) -> Rate:
        """Per row the UPDATE; the bounds query split by the line through a ``smaller``
        sample's into a cost per row (its OFFSET walk grows with the batch) and one per
        batch (on a table without statistics it scans the rest of the range whatever the
        batch size); with no smaller sample, all of it per batch."""
        keys = max(self.keys, 1)
        row_s = self.update_s / keys if self.update_s is not None else ROW_S
        bounds_row_s = 0.0
        if smaller is not None and self.keys > smaller.keys:
            grew = self.bounds_s - smaller.bounds_s
            bounds_row_s = max(grew / (self.keys - smaller.keys), 0.0)
        bounds_batch_s = max(self.bounds_s - bounds_row_s * self.keys, 0.0)
        how = f"timed on a sample batch of {self.keys:,} rows" if work.write else (
            f"reads of sample batches of {self.keys:,} rows timed, {work.reads.how}; "
            "--rehearse times the writes")  # fmt: skip
        return Rate(row_s + bounds_row_s, bounds_batch_s + ENGINE_BATCH_S, how)


def _sample(cursor: Any, plan: BackfillPlan, top: Any, size: int, work: Work) -> Sample:
    """Batches of ``size`` at the start and at each probe: the bounds query's mean, and the
    median per row of the UPDATE (or the read) of those batches (one slow moment of a
    shared machine does not make the estimate)."""
    (lo, hi, keys), first_s = _timed_bounds(cursor, plan, None, top, size)
    if not keys:
        return Sample(keys, first_s, None)
    batches: list[tuple[Any, Any, int]] = [(lo, hi, keys)]
    timings: list[float] = []
    for after in _probes(lo, hi, top):
        bounds, seconds = _timed_bounds(cursor, plan, after, top, size)
        batches += [bounds] if bounds[2] else []
        timings.append(seconds)
    per_row = sorted(_timed_work(cursor, plan, work, b) / b[2] for b in batches)
    bounds_s = sum(timings or [first_s]) / len(timings or [first_s])
    return Sample(keys, bounds_s, per_row[len(per_row) // 2] * keys)


def _timed_work(cursor: Any, plan: BackfillPlan, work: Work, batch: tuple[Any, Any, int]) -> float:
    lo, hi, _ = batch
    if work.write:
        return _timed_update(cursor, plan, work.update, lo, hi)
    fixed = _timed_read(cursor, plan, lo, lo)  # the query's own cost, not the rows'
    return max(_timed_read(cursor, plan, lo, hi) - fixed, 0.0) * work.reads.read_to_update


def _probes(lo: Any, hi: Any, top: Any) -> list[Any]:
    """Where to time the bounds query: at 1/4, 1/2 and 3/4 of an integer key range (its
    mean when the cost falls with the rest of the range), else after the first batch (the
    query has a lower bound from then on, and the planner may choose another plan)."""
    if not all(isinstance(key, int) for key in (lo, hi, top)) or top <= hi:
        return [] if hi is None or hi == top else [hi]
    return [lo + (top - lo) * quarter // 4 for quarter in (1, 2, 3)]


def _top_key(cursor: Any, plan: BackfillPlan) -> Any:
    pk = quote_ident(plan.pk_column)
    cursor.execute(f"SELECT {pk} FROM {quote_ident(plan.table)} ORDER BY {pk} DESC LIMIT 1")
    row = cursor.fetchone()
    return jsonable(row[0]) if row else None


def _timed_bounds(
    cursor: Any, plan: BackfillPlan, after: Any, top: Any, size: int
) -> tuple[tuple[Any, Any, int], float]:
    """The engine's bounds query of a batch of ``size`` keys after ``after``, timed."""
    progress = ledger.Progress(0, after, top, 0, False, False)
    run = Run(plan, progress, size, plan.target_ms)
    started = time.perf_counter()
    bounds = _bounds(cursor, run)
    return bounds, time.perf_counter() - started


COLUMN_SQL = """
    SELECT a.attname FROM pg_attribute a
    WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attgenerated = '' AND a.attidentity <> 'a' AND a.attname <> %s
    ORDER BY EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid
                     AND a.attnum = ANY (i.indkey)), a.attnum
    LIMIT 1"""


def _timed_read(cursor: Any, plan: BackfillPlan, lo: Any, hi: Any) -> float:
    """Seconds to read the batch's rows in full (each as text: the row width counts)."""
    table, pk = quote_ident(plan.table), quote_ident(plan.pk_column)
    started = time.perf_counter()
    cursor.execute(
        f"SELECT count(*) FROM (SELECT r::text FROM {table} r "
        f"WHERE {pk} >= %s AND {pk} <= %s) rows",
        [lo, hi],
    )
    return time.perf_counter() - started


def _timed_update(cursor: Any, plan: BackfillPlan, update: str, lo: Any, hi: Any) -> float:
    """Seconds of the batch's UPDATE (``update``, or a column no index covers set to
    itself, like the column a backfill fills), rolled back to a savepoint."""
    table, pk = quote_ident(plan.table), quote_ident(plan.pk_column)
    batch = f"{pk} >= %s AND {pk} <= %s"
    if not update:
        cursor.execute(COLUMN_SQL, [table, plan.pk_column])
        row = cursor.fetchone()
        column = quote_ident(row[0]) if row else pk
        update = f"UPDATE {table} SET {column} = {column} WHERE {BATCH}"
    cursor.execute("SAVEPOINT zdt_estimate")
    try:
        started = time.perf_counter()
        cursor.execute(update.replace(BATCH, batch), [lo, hi])
        return time.perf_counter() - started
    finally:
        cursor.execute("ROLLBACK TO SAVEPOINT zdt_estimate")
        cursor.execute("RELEASE SAVEPOINT zdt_estimate")


def calibrate(cursor: Any) -> Calibration:
    """The write/read ratio from this database's own history: for the last finished
    backfills of at least HISTORY_MIN_ROWS rows whose table is still there, the seconds a
    row took (the ledger row's finish minus start, per row done: its per-batch costs
    included) over the seconds reading one of that table's rows takes now; their median,
    within RATIO_RANGE. None of them: the ratio fitted on the benchmark
    (:data:`READ_TO_UPDATE`)."""
    ratios = []
    for table, pk_column, row_s in ledger.finished_rates(cursor, HISTORY_MIN_ROWS, HISTORY_RUNS):
        read_s = _read_row_s(cursor, make_plan("calibrate", table, pk_column, SAMPLE_MAX_ROWS, 0))
        if read_s:
            ratios.append(min(max(row_s / read_s, RATIO_RANGE[0]), RATIO_RANGE[1]))
    if not ratios:
        return Calibration()
    ratio = sorted(ratios)[len(ratios) // 2]
    runs = f"{len(ratios)} earlier backfill{'s' * (len(ratios) > 1)}"
    return Calibration(ratio, f"x{ratio:.0f} measured from {runs} on this database")


def _read_row_s(cursor: Any, plan: BackfillPlan) -> float:
    """Seconds reading one row of ``plan``'s table now (the median of the sample batches)."""
    top = _top_key(cursor, plan)
    if top is None:
        return 0.0
    sample = _sample(cursor, plan, top, plan.batch_size, Work(False, "", Calibration(1.0)))
    return (sample.update_s or 0.0) / max(sample.keys, 1)
