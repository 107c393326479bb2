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

# A serving process of the release tests (tests/runner/test_serving.py): its release, a short
# heartbeat, and an app whose models map what that release's code maps.
INSTALLED_APPS += [app for app in os.environ.get("ZDT_TEST_EXTRA_APPS", "").split(",") if app]
if os.environ.get("ZDT_TEST_HEARTBEAT_S"):
    ZDT_HEARTBEAT_S = float(os.environ["ZDT_TEST_HEARTBEAT_S"])
