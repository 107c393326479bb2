"""Settings for this repository's test suite: the example project plus test-only apps.

The test database name includes a hash of the checkout's path, so two checkouts (or git
worktrees) of this repository can run their suites at once against one server.
"""

import hashlib

from example_project.settings import *  # noqa: F403
from example_project.settings import BASE_DIR, DATABASES

_checkout = hashlib.sha1(str(BASE_DIR).encode()).hexdigest()[:8]
DATABASES["default"]["TEST"] = {"NAME": f"test_zdt_{_checkout}"}
