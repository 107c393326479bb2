"""A project with two PostgreSQL databases and a router (the multi-database acceptance test).

``shop`` lives on ``default`` only, ``audit`` on ``other`` only, the ledger on both.
URLs come from ``ZDT_MULTIDB_DEFAULT_URL`` and ``ZDT_MULTIDB_OTHER_URL``.
"""

from __future__ import annotations

import os

from example_project.database import parse_database_url

SECRET_KEY = "multidb-test"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "pgtrigger",
    "django_zero_downtime",
    "tests.multidb.shop.apps.Config",
    "tests.multidb.audit.apps.Config",
]
DATABASES = {
    "default": parse_database_url(os.environ["ZDT_MULTIDB_DEFAULT_URL"]),
    "other": parse_database_url(os.environ["ZDT_MULTIDB_OTHER_URL"]),
}
DATABASE_ROUTERS = ["tests.multidb.router.Router"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if os.environ.get("ZDT_MULTIDB_MIGRATION_DATABASE"):
    ZDT_MIGRATION_DATABASE = os.environ["ZDT_MULTIDB_MIGRATION_DATABASE"]
