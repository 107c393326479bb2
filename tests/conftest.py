"""Suite-wide set-up: refuse to run without PostgreSQL, with a message that says how."""

from __future__ import annotations

import pytest


def pytest_sessionstart(session: pytest.Session) -> None:
    from django.conf import settings

    from example_project.database import ensure_database

    try:
        ensure_database(settings.DATABASES["default"])
    except SystemExit as exc:
        pytest.exit(str(exc), returncode=3)
