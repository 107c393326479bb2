"""The people app's migrations, tested the way a project tests its own with
django-zero-downtime's pytest plugin (fixtures ``zdt_migrator`` and
``zdt_check_compatibility``; see docs/testing.md).

For every migration: it applies, unapplies and applies again with the schema restored
exactly; the release before it keeps working on its schema (real inserts, selects,
updates and deletes through that release's historical models); and the static
compatibility check agrees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db.migrations.loader import MigrationLoader

from django_zero_downtime.testing import Migrator, exercise_models

APP = "people"


def _migrations(app_label: str) -> list[str]:
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    leaf = max(key for key in graph.leaf_nodes() if key[0] == app_label)
    return [name for app, name in graph.forwards_plan(leaf) if app == app_label]


MIGRATIONS = _migrations(APP)
RELEASES = list(zip([None, *MIGRATIONS[:-1]], MIGRATIONS, strict=True))
"""(previous, new) for each migration: the previous release may still serve traffic."""


@pytest.mark.parametrize("name", MIGRATIONS)
def test_forwards_backwards(zdt_migrator: Migrator, name: str) -> None:
    zdt_migrator.forwards_backwards(APP, name)


@pytest.mark.parametrize(("previous", "new"), RELEASES)
def test_previous_release_works_on_new_schema(
    zdt_migrator: Migrator, previous: str | None, new: str
) -> None:
    zdt_migrator.check_previous_release({APP: previous}, new={APP: new})
    assert exercise_models(zdt_migrator.models({APP: new}), [APP])  # this release works too


@pytest.mark.parametrize(("previous", "new"), RELEASES[1:])
def test_compatibility_check_passes(
    zdt_check_compatibility: Callable[..., Any], previous: str, new: str
) -> None:
    findings = zdt_check_compatibility(migrations={APP: previous})
    assert [f for f in findings if f.is_error and f.migration <= new] == []
