"""Rehearsal with every migration applied (its own module: test_rehearsal installs an app
with pending migrations for the length of its module)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_nothing_pending_exits_0() -> None:
    out = StringIO()
    call_command("safemigrate", "--rehearse", stdout=out)
    assert "No migrations to rehearse." in out.getvalue()
