"""Repository-wide pytest set-up (the suites under tests/ and example_project/)."""

from __future__ import annotations

import pytest


class OpenDeployCycleGateWhileBuildingTestDatabase:
    """Build the test database with the deploy-cycle gate open.

    The test database applies the whole migration history in one run, with no deploy cycle
    recorded, so the example project's ``CompleteDualWriteRename`` (release 4) would be
    refused there like an early drop in production. Only the set-up of ``django_db_setup``
    runs with ``ZDT_DEPRECATION_CYCLES = 0``; tests see the real setting. (A plugin, not a
    conftest hook: session-scoped fixtures are set up outside a folder's hook scope.)
    """

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[object]) -> object:
        if fixturedef.argname != "django_db_setup":
            return (yield)
        from django.test.utils import override_settings

        with override_settings(ZDT_DEPRECATION_CYCLES=0):
            return (yield)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(OpenDeployCycleGateWhileBuildingTestDatabase())
