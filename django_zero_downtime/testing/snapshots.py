"""Snapshots of a test database: its schema and the ledger, and the drop gate for tests.

Used by :class:`django_zero_downtime.testing.Migrator` and public through
``django_zero_downtime.testing`` (``schema_snapshot``, ``drop_gate_open``, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core import serializers
from django.db import DatabaseError, connections, transaction
from django.test.utils import override_settings

SNAPSHOT_QUERIES = {
    "columns": """
        SELECT table_name, column_name, data_type, character_maximum_length,
               numeric_precision, numeric_scale, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = current_schema()
        ORDER BY 1, 2""",
    "constraints": """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.convalidated
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = current_schema() ORDER BY 1, 2""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = current_schema() ORDER BY 1, 2""",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger
        WHERE NOT tgisinternal ORDER BY 1, 2""",
    "relations": """
        SELECT c.relname, c.relkind, c.relfilenode FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 'S', 'v', 'm', 'p')
        ORDER BY 1""",
}


def schema_snapshot(using: str = "default", relfilenodes: bool = False) -> dict[str, list[Any]]:
    """Tables, columns, constraints, indexes and triggers of the current schema.

    With ``relfilenodes`` the physical file of every relation is included too, so a
    rewrite that was rolled back can be told from one that was not.
    """
    snapshot = {}
    with connections[using].cursor() as cursor:
        for name, query in SNAPSHOT_QUERIES.items():
            cursor.execute(query)
            rows = [tuple(row) for row in cursor.fetchall()]
            snapshot[name] = rows if relfilenodes or name != "relations" else [r[:2] for r in rows]
    return snapshot


@contextmanager
def drop_gate_open(really: bool = True) -> Iterator[None]:
    """Run with ``ZDT_DEPRECATION_CYCLES = 0`` (test databases: no deploy cycles exist)."""
    if not really:
        yield
        return
    with override_settings(ZDT_DEPRECATION_CYCLES=0):
        yield


LEDGER_MODELS = ("DeployCycle", "Deprecation", "BackfillProgress", "ServingProcess")


def ledger_snapshot(using: str = "default") -> str | None:
    """The ledger's rows as JSON (None when its tables do not exist)."""
    from django_zero_downtime import models as ledger

    rows = [getattr(ledger, name).objects.using(using).all() for name in LEDGER_MODELS]
    try:
        with transaction.atomic(using=using):
            return serializers.serialize("json", [row for query in rows for row in query])
    except DatabaseError:
        return None


def restore_ledger(snapshot: str, using: str = "default") -> None:
    """Replace the ledger's rows by those of :func:`ledger_snapshot`."""
    from django_zero_downtime import models as ledger

    with transaction.atomic(using=using):
        for name in LEDGER_MODELS:
            getattr(ledger, name).objects.using(using).all().delete()
        for obj in serializers.deserialize("json", snapshot, using=using):
            obj.save(using=using)
