"""Subprocess for the SIGKILL test: runs a backfill and stops mid-batch when told.

Usage: python -m tests.operations.backfill_worker TABLE KEY STOP_AT_BATCH
Each batch sets ``val = id * 2`` and ``touched = touched + 1``; after the UPDATE of batch
STOP_AT_BATCH (inside its transaction, before the commit) it prints ``holding`` and blocks on
stdin, so the parent can SIGKILL it at exactly that point.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import django


def main(table: str, key: str, stop_at: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from django.db import connection

    from django_zero_downtime.operations import batches as backfill

    batches = 0

    def update(cursor: Any, after: Any, upto: Any) -> int:
        nonlocal batches
        batches += 1
        where, params = backfill.range_condition("id", after, upto)
        cursor.execute(
            f'UPDATE "{table}" SET val = id * 2, touched = touched + 1 WHERE {where}', params
        )
        if batches == stop_at:
            print("holding", flush=True)
            sys.stdin.readline()
        return int(cursor.rowcount)

    plan = backfill.make_plan(key, table, "id", batch_size=10, pause_s=0)
    backfill.run_backfill(connection, plan, update)
    print("finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
