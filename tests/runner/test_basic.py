"""safemigrate applies, plans, reports, refuses backwards targets (real PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.runner.conftest import ADD_NOTE, CREATE_ITEM, MigrationsPackage, applied, safemigrate

pytestmark = pytest.mark.django_db(transaction=True)


def test_applies_pending_migrations_and_writes_report(
    rapp: MigrationsPackage, tmp_path: Path
) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM, "0002_note": ADD_NOTE})
    report = tmp_path / "report.json"
    result = safemigrate("rapp", "--release", "r1", "--report", str(report))
    assert result.code == 0, result.err
    assert applied() == ["0001_item", "0002_note"]
    data = json.loads(report.read_text())
    assert data["outcome"] == "applied"
    assert data["release"] == "r1"
    assert data["applied"] == ["rapp.0001_item", "rapp.0002_note"]
    print(result.out)
