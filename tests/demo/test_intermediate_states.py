"""The previous release keeps working at every committed state of the next release's
migration, not only before and after it.

A non-atomic migration (``DualWriteRename``, ``CompleteDualWriteRename``) commits several
times; between two commits the schema is visible to the release still serving. Each
schema statement registers an ``on_commit`` probe, so right after every commit a second
connection writes and reads back a row exactly as the previous release does (the columns
from ``example_project.people.releases``). Deterministic, unlike traffic that may or may
not hit a short window.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any
from unittest import mock

import psycopg
import pytest
from django.db import connection, transaction
from django.db.backends.postgresql.schema import DatabaseSchemaEditor
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import override_settings

from example_project.database import connect_kwargs
from example_project.people.releases import Release, release

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


class PreviousRelease:
    """Writes and reads a person the way ``serving`` does, on its own connection."""

    def __init__(self, serving: Release) -> None:
        self.serving = serving
        kwargs = connect_kwargs(connection.settings_dict, connection.settings_dict["NAME"])
        self.conn = psycopg.connect(**kwargs, autocommit=True)
        self.probes = 0
        self.failures: list[str] = []

    def probe(self, after: str) -> None:
        self.probes += 1
        try:
            self._write_and_read(f"Probe{self.probes}")
        except psycopg.Error as exc:
            first_line = str(exc).splitlines()[0]
            self.failures.append(f"after `{after.strip()[:70]}`: {first_line}")

    def _write_and_read(self, name: str) -> None:
        columns = self.serving.writes
        marks = ", ".join(["%s"] * len(columns))
        row = self.conn.execute(
            f"INSERT INTO people_person (first_name, {', '.join(columns)}) "
            f"VALUES ('Probe', {marks}) RETURNING id",
            [name] * len(columns),
        ).fetchone()
        assert row is not None
        sets = ", ".join(f"{c} = %s" for c in columns)
        self.conn.execute(
            f"UPDATE people_person SET {sets} WHERE id = %s", [*[name + "u"] * len(columns), row[0]]
        )
        got = self.conn.execute(
            f"SELECT {self.serving.reads} FROM people_person WHERE id = %s", [row[0]]
        ).fetchone()
        if got != (name + "u",):
            self.failures.append(f"{name}: read back {got!r}")


def _migrate(target: tuple[str, str | None]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([target])


def _rebuild(target: tuple[str, str]) -> None:
    """A fresh table, then forward to ``target``: unapplying is not exact (a column re-added
    on the way back may lose NOT NULL), and a transactional test flushes the ledger, so the
    deprecation a drop needs is recorded again on the way."""
    with override_settings(ZDT_DEPRECATION_CYCLES=0):
        _migrate(("people", None))
        _migrate(target)


@pytest.fixture
def at_latest_afterwards() -> Iterator[None]:
    yield
    _rebuild(MigrationExecutor(connection).loader.graph.leaf_nodes("people")[0])


def _apply_probed(target: tuple[str, str], previous: PreviousRelease) -> None:
    original = DatabaseSchemaEditor.execute

    def execute(editor: Any, sql: Any, params: Any = ()) -> Any:
        result = original(editor, sql, params)
        if not editor.collect_sql:
            transaction.on_commit(lambda: previous.probe(str(sql)), using=editor.connection.alias)
        return result

    with mock.patch.object(DatabaseSchemaEditor, "execute", execute):
        _migrate(target)


@pytest.mark.parametrize(
    ("serving", "before", "migration"),
    [
        (1, "0001_initial", "0002_dual_write_surname"),
        (3, "0002_dual_write_surname", "0003_drop_last_name"),
    ],
)
@pytest.mark.usefixtures("at_latest_afterwards")
def test_previous_release_works_after_every_commit(
    serving: int, before: str, migration: str
) -> None:
    _rebuild(("people", before))
    previous = PreviousRelease(release(serving))
    with override_settings(ZDT_DEPRECATION_CYCLES=0), closing(previous.conn):
        previous.probe("the previous migration")
        _apply_probed(("people", migration), previous)
    assert previous.probes > 2, "the migration committed too few times to probe anything"
    assert previous.failures == []
