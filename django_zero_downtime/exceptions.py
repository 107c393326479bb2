"""Exceptions raised by django-zero-downtime.

Every error the product raises on purpose derives from :class:`ZeroDowntimeError`, so a
command can turn it into a clear message and an exit code instead of a traceback.
"""


class ZeroDowntimeError(Exception):
    """Base class of every error raised on purpose by django-zero-downtime."""

    exit_code = 3


class RefusedByRule(ZeroDowntimeError):
    """A rule of engagement refused a migration (backwards target, early drop, big table)."""

    exit_code = 1


class LockTimeoutExhausted(ZeroDowntimeError):
    """A step could not take its lock within the retry schedule."""

    exit_code = 2


class UnsafeOperationError(ZeroDowntimeError):
    """An operation was given arguments it cannot run safely (e.g. a volatile default)."""


class MigrationInWebProcessError(ZeroDowntimeError):
    """Migrations were started inside a process that serves web requests."""


class DatabaseUnavailableError(ZeroDowntimeError):
    """No PostgreSQL server answered where one was expected."""
