"""What a statement costs on a live table: its real size, and how long it holds its lock.

The size (rows and bytes) is :mod:`django_zero_downtime.sql.size`'s, re-exported here.
:func:`estimate_seconds` turns it into a duration from rates measured on a small
shared 2-core machine (PostgreSQL 15; conservative: real servers are faster):

- rewrite (``ALTER TYPE`` int → bigint, volatile default): heap + indexes at ``REWRITE``;
- scan under the lock (``SET NOT NULL``, a validated ``CHECK``/FK): heap at ``SCAN``;
- index build under ``SHARE``/``ACCESS EXCLUSIVE`` (``CREATE INDEX``, ``ADD UNIQUE``):
  heap at ``INDEX_BUILD``.
"""

from __future__ import annotations

from django_zero_downtime.sql.classify import Impact
from django_zero_downtime.sql.size import MB, Stats, TableSize, rows_from_stats, table_size

__all__ = ["MB", "Stats", "TableSize", "estimate_seconds", "rows_from_stats", "table_size", "work"]

REWRITE_BYTES_PER_S = 25 * MB
SCAN_BYTES_PER_S = 130 * MB
INDEX_BUILD_BYTES_PER_S = 45 * MB


def work(impact: Impact) -> str | None:
    """What makes ``impact`` cost time under a write-blocking lock (the classifier's
    ``costly``): "rewrite", "index build" or "scan"; None for a catalog-only change, instant
    at any size, and for tables created earlier in the plan (no live traffic yet)."""
    if impact.new_table or not impact.costly:
        return None
    if impact.rewrites:
        return "rewrite"
    return "index build" if impact.blocking_build else "scan"


def estimate_seconds(kind: str, size: TableSize) -> float:
    if kind == "rewrite":
        return size.total_bytes / REWRITE_BYTES_PER_S
    if kind == "index build":
        return size.heap_bytes / INDEX_BUILD_BYTES_PER_S
    return size.heap_bytes / SCAN_BYTES_PER_S
