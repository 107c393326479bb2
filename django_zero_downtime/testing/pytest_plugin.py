"""pytest plugin (entry point ``pytest11``): fixtures for testing migrations.

Registered for every project that installs django-zero-downtime; it defines fixtures
only and does nothing unless a test asks for one of them. The fixtures build on
pytest-django's test database (``transactional_db``), which is the scratch database the
migrations run on; nothing is imported from Django until a fixture is used.

- ``zdt_migrator``: a :class:`django_zero_downtime.testing.Migrator` on the ``default``
  database. It moves the test database between migration states, checks the previous
  release's models on the new schema, and applies migrations forwards, backwards and
  forwards again. At teardown it migrates everything back to the latest migrations.
- ``zdt_check_compatibility``:
  :func:`django_zero_downtime.bluegreen.compatibility.check_compatibility`
  (static; no database needed with ``git_ref=`` or ``migrations=``).
- ``zdt_schema_snapshot``: :func:`django_zero_downtime.testing.schema_snapshot`.

pytest-django builds the test database by applying every migration at once, with no
deploy cycle recorded, so a contract step (``CompleteDualWriteRename``,
``DropDeprecated*``) would be refused there as an early drop. The plugin builds it with
the deploy-cycle gate open; set the ini option ``zdt_drop_gate_in_test_database = true``
to keep the gate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from django_zero_downtime.testing import Migrator


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "zdt_drop_gate_in_test_database",
        "Keep django-zero-downtime's deploy-cycle gate closed while the test database is built.",
        type="bool",
        default=False,
    )


LEDGER = pytest.StashKey[str]()
"""The ledger rows as the migrations left them when the test database was built."""


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: Any) -> Any:
    """Build pytest-django's test database with the deploy-cycle gate of drops open, and
    remember the ledger it leaves (``zdt_migrator`` restores it for every test)."""
    if fixturedef.argname != "django_db_setup":
        return (yield)
    from django_zero_downtime.testing import drop_gate_open, ledger_snapshot

    with drop_gate_open(not request.config.getini("zdt_drop_gate_in_test_database")):
        result = yield
    with request.getfixturevalue("django_db_blocker").unblock():
        snapshot = ledger_snapshot("default")
    if snapshot is not None:
        request.config.stash[LEDGER] = snapshot
    return result


@pytest.fixture
def zdt_migrator(transactional_db: None, pytestconfig: pytest.Config) -> Iterator[Migrator]:
    """Move the test database between migration states; back to the latest at teardown.

    Each test starts with the ledger (deprecations, deploy cycles) as the migrations left it
    when the test database was built, which an earlier transactional test's flush empties:
    a later contract step (a drop) needs the deprecation its expand step recorded.
    """
    from django_zero_downtime.testing import Migrator, restore_ledger

    if LEDGER in pytestconfig.stash:
        restore_ledger(pytestconfig.stash[LEDGER], "default")
    migrator = Migrator("default")
    try:
        yield migrator
    finally:
        migrator.reset()


@pytest.fixture
def zdt_check_compatibility() -> Callable[..., Any]:
    """``check_compatibility(git_ref=..., migrations=..., database=...) -> list[Finding]``."""
    from django_zero_downtime.bluegreen.compatibility import check_compatibility

    return check_compatibility


@pytest.fixture
def zdt_schema_snapshot() -> Callable[..., dict[str, list[Any]]]:
    """``schema_snapshot(using="default", relfilenodes=False)``: the schema, to compare."""
    from django_zero_downtime.testing import schema_snapshot

    return schema_snapshot
