"""Former home of the approvals reader; ``from django_zero_downtime.lint.suppress import
suppress`` keeps working. The reader lives in :mod:`django_zero_downtime.findings.approvals`."""

from django_zero_downtime.findings.approvals import (  # noqa: F401
    Suppressions,
    read_suppressions,
    suppress,
)
