"""Names of the databases the test suite creates, so several suites can share one server.

Every name starts with ``ZDT_TEST_DB_PREFIX`` (default ``test_zdt``) and carries a hash of
the checkout's path, so two checkouts or git worktrees never touch each other's databases.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = os.environ.get("ZDT_TEST_DB_PREFIX") or "test_zdt"
CHECKOUT = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]


def test_database_name(kind: str = "") -> str:
    """The name of this checkout's database for ``kind`` (``""`` for the main test database)."""
    return "_".join(part for part in (PREFIX, kind, CHECKOUT) if part)


def scratch_database_name() -> str:
    """A fresh name for a throw-away database (a new environment), unique per call."""
    return f"{PREFIX}_scratch_{uuid.uuid4().hex[:8]}"
