"""The example project on SQLite (a project whose test suite runs on SQLite), plus an app
whose history uses every operation of django-zero-downtime. The file comes from
``ZDT_SQLITE_FILE``."""

import os

from example_project.settings import *  # noqa: F403
from example_project.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.operations.portableapp"]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["ZDT_SQLITE_FILE"]}
}
