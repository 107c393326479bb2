"""The lifecycle demo, shortened (``--quick``), as CI runs it: four releases deployed
blue/green under traffic, the early drop refused, zero failed requests, zero bad rows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.dbnames import test_database_name

pytestmark = pytest.mark.slow

ROOT = Path(settings.BASE_DIR)
DEMO_DB = test_database_name("lifecycle")


def test_quick_lifecycle_demo_completes_with_no_failed_request(tmp_path: Path) -> None:
    command = [
        sys.executable, "manage.py", "lifecycle_demo", "--quick",
        "--database-name", DEMO_DB, "--workdir", str(tmp_path), "--drop-database",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "RELEASE"}
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    for number in (1, 2, 3, 4):
        assert f"Release r{number}:" in output
    assert "--release r4: refused by a rule" in output
    assert "--release r4: applied" in output
    assert "rollback" in output and "50/50" in output
    assert "Lifecycle demo OK" in output
    assert "0 failed, 0 inconsistent rows, early drop refused: yes" in output
    assert "served no grpc" not in output
    for number in (2, 3, 4):
        assert f"r{number} grpc v1" in output and f"r{number} grpc v2" in output
