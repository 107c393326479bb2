"""Primary-key widening (integer -> bigint) with a referencing table, under a writer.

What a user runs: a scratch project (``shop.Item`` with an ``AutoField`` key, ``shop.Part``
with a foreign key to it), ``ROWS`` rows in each, then the model edit ``AutoField`` ->
``BigAutoField``, ``makemigrations`` and two ``safemigrate --release`` runs (expand, then
the contract swap). A writer on its own connection inserts an item and a part and updates
an item, single statements, the whole time. In one run it prints:

- the total time of the two runs (and of each);
- the longest ACCESS EXCLUSIVE hold of the migration session on either table (sampled
  from ``pg_locks`` every millisecond or so by another connection);
- the writer's p50/p99/max latency during the migration against the same writer on the
  same tables without a migration (measured first, ``ZDT_BENCH_BASELINE_S`` = 15 s), and
  their ratios.

Usage: ``python benchmarks/pk_widening.py [rows]`` (default 1,000,000; about 1-2 minutes).
``DATABASE_URL`` selects the server.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/zdt_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

import django

django.setup()

from tests.autodetect.harness import Project, Writer, make_project, models  # noqa: E402
from tests.autodetect.test_retype_paths import PART  # noqa: E402

BEFORE = models(extra="    id = models.AutoField(primary_key=True)", tail=PART)
AFTER = BEFORE.replace("models.AutoField(", "models.BigAutoField(")
INSERT = (
    "WITH p AS (INSERT INTO shop_item (name, qty) VALUES ('w', 0) RETURNING id) "
    "INSERT INTO shop_part (item_id, n) SELECT id, 1 FROM p"
)
UPDATE = "UPDATE shop_item SET qty = qty + 1 WHERE id = %s"
BASELINE_S = float(os.environ.get("ZDT_BENCH_BASELINE_S") or 15)
HOLD_SQL = (
    "SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
    "WHERE l.mode = 'AccessExclusiveLock' AND l.granted AND l.locktype = 'relation' "
    "AND a.application_name = 'zdt-safemigrate' "
    "AND l.relation IN ('shop_item'::regclass, 'shop_part'::regclass))"
)


class HoldSampler:
    """Longest continuous ACCESS EXCLUSIVE hold of the migration session, by sampling."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.longest = 0.0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.project.connect() as conn:
            since: float | None = None
            while not self._stop.is_set():
                held = conn.execute(HOLD_SQL).fetchone()[0]  # type: ignore[index]
                now = time.monotonic()
                self.samples += 1
                if held and since is None:
                    since = now
                elif not held and since is not None:
                    self.longest, since = max(self.longest, now - since), None

    def __enter__(self) -> HoldSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def fill(project: Project, rows: int) -> None:
    with project.connect() as conn:
        conn.execute(
            "INSERT INTO shop_item (name, qty) SELECT 'n' || g, 0 FROM generate_series(1, %s) g",
            [rows],
        )
        conn.execute(
            "INSERT INTO shop_part (item_id, n) SELECT g, g FROM generate_series(1, %s) g", [rows]
        )
        conn.execute("ANALYZE")


def percentiles(latencies: list[float]) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, ordered[-1]


def writer_for(project: Project, rows: int, seconds: float) -> Writer:
    writer = Writer(project, INSERT, UPDATE, rows).start()
    time.sleep(seconds)
    return writer.stop()


def migrate(project: Project, rows: int) -> tuple[Writer, HoldSampler, list[float]]:
    project.write_models(AFTER)
    print(project.ok("makemigrations", "shop").strip())
    timings = []
    writer = Writer(project, INSERT, UPDATE, rows).start()
    with HoldSampler(project) as sampler:
        for release in ("r2", "r3"):
            started = time.monotonic()
            project.ok("safemigrate", "--release", release)
            timings.append(time.monotonic() - started)
    writer.stop()
    return writer, sampler, timings


def report(baseline: Writer, during: Writer, sampler: HoldSampler, timings: list[float]) -> None:
    base, load = percentiles(baseline.latencies), percentiles(during.latencies)
    expand, swap = timings
    print(f"total migration time: {expand + swap:.1f} s (expand {expand:.1f} s, swap {swap:.1f} s)")
    hold = sampler.longest * 1000
    print(f"longest ACCESS EXCLUSIVE hold: {hold:.1f} ms ({sampler.samples} samples)")
    for label, b, d in zip(("p50", "p99", "max"), base, load, strict=True):
        ratio = d / b
        print(
            f"writer {label}: {d * 1000:7.2f} ms during, {b * 1000:7.2f} ms without ({ratio:.2f}x)"
        )
    print(
        f"writer errors during the migration: {len(during.errors)}; writes: {len(during.latencies)}"
    )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        projects = make_project(Path(tmp), "bench_pk")
        project = next(projects)
        try:
            project.write_models(BEFORE)
            project.ok("makemigrations", "shop")
            project.ok("safemigrate", "--release", "r1")
            fill(project, rows)
            baseline = writer_for(project, rows, BASELINE_S)
            during, sampler, timings = migrate(project, rows)
            report(baseline, during, sampler, timings)
        finally:
            projects.close()


if __name__ == "__main__":
    main()
