"""``lifecycle_demo --scenario bigint --quick`` as CI runs it: a referenced integer primary
key widened to bigint over three releases, each blue/green with a rollback, under traffic."""

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


def test_quick_bigint_demo_widens_the_key_with_no_failed_request(tmp_path: Path) -> None:
    command = [
        sys.executable, "manage.py", "lifecycle_demo", "--scenario", "bigint", "--quick",
        "--database-name", test_database_name("bigint"), "--workdir", str(tmp_path),
        "--drop-database",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "RELEASE"}
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "Held back shop.0004_complete_retype_order_id" in output
    assert "Applying shop.0004_complete_retype_order_id" in output
    for phase in ("migrate", "50/50", "rollback", "forward"):
        assert f"{phase:8} r2 served" in output or f"{phase:8} r1 served" in output
    assert "shop_order.id bigint, shop_line.order_id bigint, foreign key validated: True" in output
    assert " 0 failed, 0 inconsistent rows" in output
    assert "Lifecycle demo (bigint) OK" in output
