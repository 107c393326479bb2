"""Settings for this repository's test suite: the example project plus test-only apps.

The test database name includes a hash of the checkout's path, so two checkouts (or git
worktrees) of this repository can run their suites at once against one server.
"""

import os

from example_project.settings import *  # noqa: F403
from example_project.settings import DATABASES
from tests.dbnames import test_database_name

DATABASES["default"]["TEST"] = {"NAME": test_database_name()}

# The suite deploys several releases within seconds; the interval's own tests set it.
ZDT_MIN_CYCLE_INTERVAL = float(os.environ.get("ZDT_TEST_MIN_CYCLE_INTERVAL", "0"))
