"""Every way a run can fail, as a message and an exit code (pure functions).

The exit codes are the contract with the deploy pipeline: 0 done, 1 refused by a rule
(nothing applied), 2 gave up on locks, 3 error, 4 verify failed. Whatever goes wrong, the
command prints one of these messages (never a traceback unless ``--traceback``):

- invalid ``ZDT_*`` settings: the ``zdt.E001`` message, before anything runs;
- the database cannot be reached (down, missing, password refused): which database, the
  server's own words, nothing applied;
- a migration file that cannot be loaded (syntax error, import error, an exception while
  it is imported, a missing dependency): the file and line;
- an error while a step runs (an operation raising, SQL the server rejects, the server
  going away): the migration and operation, what the server said, and what of the
  migration stayed applied: an atomic migration is rolled back entirely; a non-atomic one
  keeps the statements committed before the error, and a rerun continues from there
  (:mod:`django_zero_downtime.operations.reentry`).
"""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.migrations.exceptions import (
    BadMigrationError,
    InconsistentMigrationHistory,
    NodeNotFoundError,
)

from django_zero_downtime.exceptions import ZeroDowntimeError

ERROR = 3
RERUN = "run safemigrate again once the cause is fixed"


def settings_message(exc: Exception) -> str:
    return f"zdt.E001: {exc}\nNothing was applied: the settings are checked before anything runs."


def unknown_database_message(alias: str, connections: Any) -> str:
    known = ", ".join(sorted(connections.databases))
    return (
        f"--database {alias!r} is not one of the DATABASES aliases ({known}). Nothing was "
        "applied; give one of those (or leave --database out to use ZDT_MIGRATION_DATABASE "
        "or 'default')."
    )


def database_label(settings: Mapping[str, Any], alias: str) -> str:
    """``'default' (postgres@127.0.0.1:5432/shop)``: which database, without the password."""
    user, host = settings.get("USER") or "", settings.get("HOST") or "localhost"
    port, name = settings.get("PORT") or 5432, settings.get("NAME") or "?"
    return f"{alias!r} ({user}{'@' if user else ''}{host}:{port}/{name})"


def connection_message(label: str, exc: BaseException) -> str:
    said = first_line(exc).removeprefix("connection failed: ")
    return (
        f"Cannot connect to database {label}: {said}\nNothing was applied. Check that the "
        "server runs and answers there, that the database exists, and the user and password "
        "in DATABASES (or DATABASE_URL)."
    )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def migration_file(exc: BaseException) -> tuple[str, int] | None:
    """(file, line) of the module being imported when ``exc`` was raised, if any."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return exc.filename, exc.lineno or 0
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.name == "<module>"]
    real = [f for f in frames if not f.filename.startswith("<") and "django/" not in f.filename]
    return (real[-1].filename, real[-1].lineno or 0) if real else None


def load_message(exc: BaseException) -> str | None:
    """The message for a migration file that cannot be loaded; None if ``exc`` is not that."""
    found = migration_file(exc)
    if found is not None:
        where = f"{found[0]}, line {found[1]}"
        detail = exc.msg if isinstance(exc, SyntaxError) else first_line(exc)
        return (
            f"Migration file {where} cannot be loaded: {type(exc).__name__}: {detail}\n"
            "Nothing was applied. Fix the file and run again."
        )
    if isinstance(exc, BadMigrationError | NodeNotFoundError | InconsistentMigrationHistory):
        return f"The migrations cannot be loaded: {first_line(exc)}\nNothing was applied."
    return None


def applied_part(atomic: bool | None, committed: Sequence[str]) -> str:
    """What of the failed migration stayed applied, and that a rerun continues."""
    if atomic is None:
        return "Nothing of the failed migration was applied."
    if atomic:
        return "The failed migration was rolled back entirely: nothing of it stayed applied."
    if not committed:
        return (
            "No statement of this non-atomic migration was committed before the error; "
            f"it is not recorded: {RERUN}."
        )
    lines = "\n".join(f"  - {one_line(sql)}" for sql in committed)
    return (
        "This migration is non-atomic: these statements stayed applied (committed before "
        f"the error):\n{lines}\nIt is not recorded as applied; {RERUN}: the rerun "
        "continues from there (what is in place is adopted, not built twice)."
    )


def one_line(sql: str, limit: int = 160) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def step_message(
    exc: BaseException, where: str, atomic: bool | None, committed: Sequence[str]
) -> str:
    """An error while ``where`` (migration, operation, description) ran."""
    kind = "database error" if _is_database_error(exc) else type(exc).__name__
    return (
        f"safemigrate stopped on a {kind} in {where}: {str(exc).strip() or kind}\n"
        f"{applied_part(atomic, committed)}"
    )


class StepFailed(ZeroDowntimeError):
    """A step raised (an operation, the server): its message says what stayed applied."""


def step_failed(
    exc: BaseException, key: str, step: Any, migration: Any, committed: Sequence[str]
) -> StepFailed:
    """The error of step ``key`` (its StepReport ``step``, or None) of ``migration``."""
    where = key or f"{migration.app_label}.{migration.name}"
    if step is not None:
        where += f" ({step.operation}: {step.description})"
    return StepFailed(step_message(exc, where, migration.atomic, committed))


def _is_database_error(exc: BaseException) -> bool:
    from django.db import DatabaseError

    return isinstance(exc, DatabaseError)


def explain(exc: BaseException) -> tuple[int, str]:
    """(exit code, message) for an error raised before or around the run itself."""
    if isinstance(exc, ZeroDowntimeError):
        return exc.exit_code, str(exc)
    if isinstance(exc, ImproperlyConfigured):
        return ERROR, settings_message(exc)
    loading = load_message(exc)
    if loading is not None:
        return ERROR, loading
    return ERROR, (
        f"safemigrate stopped on an unexpected {type(exc).__name__}: {first_line(exc)}\n"
        "Run again with --traceback for the details."
    )


def check_exit_code(text: str) -> int:
    """A failed system check: 1 when every error is a rule's finding on a migration of the
    plan (``zdt.E010``: refused by a rule), else 3 (a broken migration, a setting)."""
    ids = set(re.findall(r"\((\w+\.E\d+)\)", text))
    return 1 if ids and ids <= {"zdt.E010"} else ERROR


def unwritable(path: str) -> str | None:
    """Why a report cannot be written to ``path`` (None: it can). Checked before a run."""
    target = Path(path)
    if target.is_dir():
        return "it is a directory"
    parent = target.parent if str(target.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        return f"{parent} is not a directory"
    if not parent.is_dir():
        return f"the directory {parent} does not exist"
    if target.exists() and not os.access(target, os.W_OK):
        return "the file is not writable"
    if not os.access(parent, os.W_OK):
        return f"the directory {parent} is not writable"
    return None


def report_message(flag: str, path: str, reason: str) -> str:
    return (
        f"{flag} {path} cannot be written: {reason}. Nothing was applied; give a path in a "
        "writable directory."
    )
