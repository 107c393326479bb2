"""Settings for safemigrate subprocesses started by the runner tests.

``DATABASE_URL`` points at the test database, ``ZDT_TEST_MIGRATIONS`` names the package
holding the test app's migrations (on ``PYTHONPATH``).
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.runner.rapp"]
MIGRATION_MODULES = {"rapp": os.environ["ZDT_TEST_MIGRATIONS"]}
ZDT_RETRY_MAX_DELAY_MS = 1_000
