"""``manage.py backfill``: see and steer running backfills from another shell.

- ``backfill status``: every backfill in the ledger, its progress and controls;
- ``backfill pause KEY`` / ``backfill resume KEY``: the run waits after its current batch
  (and says so) until resumed;
- ``backfill target KEY MS``: the batch time the run aims at from its next batch on.

The run reads these controls with the statement that records each batch, so they take
effect within one batch (~``ZDT_BACKFILL_TARGET_MS``) and survive a restart of the run.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections
from django.db.models import QuerySet

from django_zero_downtime import conf
from django_zero_downtime.models import BackfillProgress
from django_zero_downtime.runner.failures import unknown_database_message


class Command(BaseCommand):
    help = "Show, pause, resume or retarget batched backfills (the ledger's BackfillProgress)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["status", "pause", "resume", "target"])
        parser.add_argument("key", nargs="?", help="The backfill's key (see `backfill status`).")
        parser.add_argument("ms", nargs="?", type=int, help="For `target`: batch time in ms.")
        parser.add_argument("--database", default=None, help="Database alias of the ledger.")

    def handle(self, *args: Any, **options: Any) -> None:
        alias = conf.migration_alias(options["database"])
        try:
            self.act(ledger_rows(alias), alias, options)
        except DatabaseError as exc:
            first = (str(exc).strip().splitlines() or [repr(exc)])[0]
            raise CommandError(
                f"backfill {options['action']} on {alias!r}: {first}. "
                + MIGRATE.replace("ALIAS", alias)
            ) from exc

    def act(self, rows: QuerySet[BackfillProgress], alias: str, options: dict[str, Any]) -> None:
        if options["action"] == "status":
            for progress in rows.order_by("id"):
                self.stdout.write(status_line(progress))
            return
        key = options["key"]
        if not key:
            raise CommandError(f"backfill {options['action']} needs the backfill's KEY.")
        changes = controls(options["action"], options["ms"])
        if not rows.filter(key=key).update(**changes):
            known = ", ".join(rows.values_list("key", flat=True)) or "none"
            raise CommandError(f"No backfill with key {key!r} on {alias!r} (known: {known}).")
        self.stdout.write(f"backfill {key}: {options['action']} {changes}")


MIGRATE = "Migrate the ledger there first: `manage.py safemigrate --database ALIAS`."


def ledger_rows(alias: str) -> QuerySet[BackfillProgress]:
    """The ledger's backfills on ``alias``; a clear error for an unknown alias or a database
    whose ledger is not migrated (a router that keeps ``django_zero_downtime`` off it)."""
    if alias not in connections.databases:
        raise CommandError(unknown_database_message(alias, connections))
    table = BackfillProgress._meta.db_table
    if table not in connections[alias].introspection.table_names():
        raise CommandError(
            f"Database {alias!r} has no ledger (no table {table}), so no backfill ran there. "
            + MIGRATE.replace("ALIAS", alias)
        )
    return BackfillProgress.objects.using(alias)


def controls(action: str, ms: int | None) -> dict[str, Any]:
    if action == "target":
        if ms is None or ms <= 0:
            raise CommandError("backfill target KEY MS: MS must be a positive number of ms.")
        return {"target_ms": ms}
    return {"pause_requested": action == "pause"}


def status_line(progress: BackfillProgress) -> str:
    total = f" of {progress.rows_total:,}" if progress.rows_total is not None else ""
    state = "done" if progress.finished_at else ("PAUSED" if progress.pause_requested else "open")
    target = f", target {progress.target_ms} ms" if progress.target_ms else ""
    return (
        f"{progress.key}: {state}, {progress.rows_done:,} rows updated{total}, "
        f"at {progress.last_pk} of {progress.max_pk}{target}"
    )
