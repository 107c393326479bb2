"""A table's real size: rows and bytes, for every judgement that depends on it.

``pg_class.reltuples`` can be far from the truth (design.md §6): ``-1`` when the table was
never analysed, or the value of the last ANALYZE (25 rows after a bulk load of 2,000,000).
:func:`table_size` trusts it only when the statistics were taken at about the table's
current size (``relpages``), scaled to the current pages like the planner does; otherwise
it counts (small tables) or samples pages (``TABLESAMPLE SYSTEM``, about
``SAMPLE_PAGES`` of them: rows per sampled page * pages). The size rule (ZDT401), the
``--plan`` backfill lines and the rehearsal's estimates all use it, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MB = 1024 * 1024
COUNT_UP_TO_PAGES = 1_280
"""Up to 10 MB (8 kB pages) a table is simply counted."""
SAMPLE_PAGES = 3_000
TRUSTED_PAGES_SHARE = 0.8
"""Statistics taken at >= 80% of the current pages still describe the rows per page."""


@dataclass(frozen=True)
class TableSize:
    rows: int
    heap_bytes: int
    total_bytes: int
    how: str
    """Where ``rows`` comes from, for the verdict line."""


@dataclass(frozen=True)
class Stats:
    """A table's catalogue facts: ``pg_class`` and the current sizes."""

    reltuples: float
    relpages: int
    heap_bytes: int
    total_bytes: int
    block_size: int

    @property
    def pages(self) -> int:
        return self.heap_bytes // self.block_size


def rows_from_stats(stats: Stats) -> int | None:
    """The planner's estimate (reltuples / relpages * current pages) when the statistics
    describe the table as it is now; None when they cannot (never analysed, or taken when
    the table was much smaller)."""
    if stats.pages == 0:
        return 0
    if stats.reltuples < 0 or stats.relpages <= 0:
        return None
    if stats.relpages < stats.pages * TRUSTED_PAGES_SHARE:
        return None
    return round(stats.reltuples / stats.relpages * stats.pages)


def sample_percent(pages: int) -> float:
    return min(100.0, 100.0 * SAMPLE_PAGES / max(pages, 1))


STATS_SQL = (
    "SELECT c.reltuples, c.relpages, pg_relation_size(c.oid), pg_total_relation_size(c.oid), "
    "current_setting('block_size')::int, c.relkind FROM pg_class c "
    "WHERE c.oid = to_regclass(%s)"
)
PARTITIONS_SQL = (
    "SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_partition_tree(to_regclass(%s)) t "
    "JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE t.isleaf AND c.relkind <> 'f' ORDER BY 1"
)


def table_size(cursor: Any, quoted_table: str) -> TableSize:
    """The table's rows and bytes (a table created earlier in this run: empty). A
    partitioned table has no rows of its own (``reltuples`` -1, no pages): the sum of its
    partitions', each sized on its own (a rewrite or a scan visits every one)."""
    cursor.execute(STATS_SQL, [quoted_table])
    row = cursor.fetchone()
    if row is None:
        return TableSize(0, 0, 0, "new table")
    if row[5] == "p":
        return partitioned_size(cursor, quoted_table)
    stats = Stats(float(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]))
    rows = rows_from_stats(stats)
    if rows is not None:
        return TableSize(rows, stats.heap_bytes, stats.total_bytes, "statistics")
    if stats.pages <= COUNT_UP_TO_PAGES:
        cursor.execute(f"SELECT count(*) FROM {quoted_table}")
        return TableSize(int(cursor.fetchone()[0]), stats.heap_bytes, stats.total_bytes, "counted")
    return TableSize(sampled_rows(cursor, quoted_table, stats), *_bytes(stats), how=_sampled(stats))


def partitioned_size(cursor: Any, quoted_table: str) -> TableSize:
    """The sum of the leaf partitions' sizes; ``how`` says how many and how each was found."""
    cursor.execute(PARTITIONS_SQL, [quoted_table])
    sizes = [table_size(cursor, name) for (name,) in cursor.fetchall()]
    hows = sorted({size.how.split(":")[0] for size in sizes})
    return TableSize(
        sum(size.rows for size in sizes),
        sum(size.heap_bytes for size in sizes),
        sum(size.total_bytes for size in sizes),
        f"{len(sizes)} partitions: {', '.join(hows) or 'none'}",
    )


def _bytes(stats: Stats) -> tuple[int, int]:
    return stats.heap_bytes, stats.total_bytes


def _sampled(stats: Stats) -> str:
    why = "never analysed" if stats.reltuples < 0 else "statistics out of date"
    return f"{why}: sampled {min(SAMPLE_PAGES, stats.pages):,} of {stats.pages:,} pages"


def sampled_rows(cursor: Any, quoted_table: str, stats: Stats) -> int:
    """Rows per sampled page * pages: reads about SAMPLE_PAGES pages, under ACCESS SHARE."""
    cursor.execute(
        f"SELECT count(*), count(DISTINCT (ctid::text::point)[0]) FROM {quoted_table} "
        "TABLESAMPLE SYSTEM (%s) REPEATABLE (16)",
        [sample_percent(stats.pages)],
    )
    rows, pages = cursor.fetchone()
    return round(rows / pages * stats.pages) if pages else 0
