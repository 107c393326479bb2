"""A new environment: the whole history, expand and contract steps, applies in one run.

No release can be serving from a database where nothing is applied yet, so ``safemigrate``
opens the deploy-cycle gates of drops for that run (and says so). On a database that has
migrations applied the gates stay closed (tests/runner/test_rules.py).
"""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import manage


def _columns(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'people_person'"
        )
        return {row[0] for row in rows}


@pytest.mark.slow
@pytest.mark.django_db
def test_whole_history_applies_on_a_fresh_database(scratch_database_url: str) -> None:
    result = manage(scratch_database_url, "safemigrate", "--release", "r1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no release can be serving from it" in result.stdout
    assert _columns(scratch_database_url) == {"id", "first_name", "surname"}  # the drop ran
    again = manage(scratch_database_url, "safemigrate", "--release", "r2")
    assert again.returncode == 0, again.stderr
    assert "no release can be serving" not in again.stdout
