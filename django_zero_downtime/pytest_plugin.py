"""pytest plugin (entry point ``pytest11``): fixtures for testing migrations.

Registered for every project that installs django-zero-downtime; it defines fixtures
only and does nothing unless a test asks for one of them. The fixtures build on
pytest-django's test database (``transactional_db``), which is the scratch database the
migrations run on; nothing is imported from Django until a fixture is used.

- ``zdt_migrator``: a :class:`django_zero_downtime.testing.Migrator` on the ``default``
  database. It moves the test database between migration states, checks the previous
  release's models on the new schema, and applies migrations forwards, backwards and
  forwards again. At teardown it migrates everything back to the latest migrations.
- ``zdt_check_compatibility``: :func:`django_zero_downtime.compat.check_compatibility`
  (static; no database needed with ``git_ref=`` or ``migrations=``).
- ``zdt_schema_snapshot``: :func:`django_zero_downtime.testing.schema_snapshot`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from django_zero_downtime.testing import Migrator


@pytest.fixture
def zdt_migrator(transactional_db: None) -> Iterator[Migrator]:
    """Move the test database between migration states; back to the latest at teardown."""
    from django_zero_downtime.testing import Migrator

    migrator = Migrator("default")
    try:
        yield migrator
    finally:
        migrator.reset()


@pytest.fixture
def zdt_check_compatibility() -> Callable[..., Any]:
    """``check_compatibility(git_ref=..., migrations=..., database=...) -> list[Finding]``."""
    from django_zero_downtime.compat import check_compatibility

    return check_compatibility


@pytest.fixture
def zdt_schema_snapshot() -> Callable[..., dict[str, list[Any]]]:
    """``schema_snapshot(using="default", relfilenodes=False)``: the schema, to compare."""
    from django_zero_downtime.testing import schema_snapshot

    return schema_snapshot
