"""When ``zdt.E010`` is an error: the system check never stands between a user and the tools.

Django runs every system check before almost every command. A new unsafe migration must fail
``manage.py check`` (CI) and stop ``migrate``/``safemigrate`` from applying it, but it must not
stop ``showmigrations``, ``makemigrations``, ``sqlmigrate``, ``runserver`` (a warning there), the
test runner, nor ``safemigrate --plan/--rehearse/--check``, which judge the migration
themselves. So the check reports a warning (``zdt.W011``) unless a command asked for
judgement with :func:`judging`:

- our ``check`` command, when run from the command line: every migration is judged;
- our ``migrate`` and ``safemigrate`` (apply mode): the migrations of their forward plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DatabaseError, connections
from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.executor import MigrationExecutor

Key = tuple[str, str]
ALL = "all"
_JUDGED: ContextVar[frozenset[Key] | str | None] = ContextVar("zdt_judged", default=None)


@contextmanager
def judging(keys: Iterable[Key] | str = ALL) -> Iterator[None]:
    """Within the block, findings in ``keys`` (or every migration) are errors."""
    token = _JUDGED.set(keys if isinstance(keys, str) else frozenset(keys))
    try:
        yield
    finally:
        _JUDGED.reset(token)


def is_judged(key: Key) -> bool:
    judged = _JUDGED.get()
    return judged == ALL or (isinstance(judged, frozenset) and key in judged)


def any_judged() -> bool:
    return bool(_JUDGED.get())


def forward_plan(alias: str, app_label: str | None, name: str | None) -> frozenset[Key]:
    """The migrations ``migrate [app_label [name]]`` would apply on ``alias``.

    Empty when the plan cannot be read (no database, a bad target: the command itself then
    reports the problem) and on databases other than PostgreSQL.
    """
    if connections[alias].vendor != "postgresql":
        return frozenset()  # no live traffic to protect (SQLite test and development runs)
    own = connections.create_connection(alias)  # leave the command's connection untouched
    try:
        executor = MigrationExecutor(own)
        targets = _targets(executor, app_label, name)
        plan = executor.migration_plan(targets)
    except (DatabaseError, KeyError, AmbiguityError, ValueError):
        return frozenset()
    finally:
        own.close()
    return frozenset((m.app_label, m.name) for m, backwards in plan if not backwards)


def _targets(
    executor: MigrationExecutor, app_label: str | None, name: str | None
) -> list[tuple[str, str | None]]:
    graph = executor.loader.graph
    if not app_label:
        return list(graph.leaf_nodes())
    if not name:
        return [key for key in graph.leaf_nodes() if key[0] == app_label]
    if name == "zero":
        return [(app_label, None)]
    return [(app_label, executor.loader.get_migration_by_prefix(app_label, name).name)]
