"""The two-database project plus a third alias on SQLite (``ZDT_SQLITE_FILE``), which the
router sends nothing to: a project whose local cache or test fixtures live in SQLite."""

from __future__ import annotations

import os

from tests.multidb.settings import *  # noqa: F403
from tests.multidb.settings import DATABASES

DATABASES["local"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["ZDT_SQLITE_FILE"]}
