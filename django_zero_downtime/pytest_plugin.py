"""Former home of the pytest plugin, kept so ``-p django_zero_downtime.pytest_plugin`` works.

The plugin lives in :mod:`django_zero_downtime.testing.pytest_plugin` (the ``pytest11``
entry point names it).
"""

from django_zero_downtime.testing.pytest_plugin import (  # noqa: F401
    pytest_addoption,
    pytest_fixture_setup,
    zdt_check_compatibility,
    zdt_migrator,
    zdt_schema_snapshot,
)
