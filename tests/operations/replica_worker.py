"""Subprocess for the replica-lag test: backfills TABLE on the database of DATABASE_URL (a
throwaway primary) and prints every progress event as a JSON line with its wall-clock time.

Usage: python -m tests.operations.replica_worker TABLE MAX_LAG_MS
"""

from __future__ import annotations

import json
import os
import sys
import time

import django


def main(table: str, lag_ms: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from django_zero_downtime import events
    from django_zero_downtime.operations import batches
    from django_zero_downtime.operations.batch_sql import BatchSql

    call_command("migrate", "django_zero_downtime", verbosity=0)
    settings.ZDT_MAX_REPLICA_LAG_MS = lag_ms

    def say(event: events.Event) -> None:
        print(json.dumps({"kind": event.kind, "at": time.time(), **event.data}), flush=True)

    update = BatchSql(f'UPDATE "{table}" SET b = a WHERE "id" BETWEEN $1 AND $2')
    plan = batches.make_plan("replica", table, "id", batch_size=2_000, pause_s=0.05)
    with events.listening(say):
        batches.run_backfill(connection, plan, update, out=sys.stderr)
    print(json.dumps({"kind": "finished", "at": time.time()}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
