"""The migration checker: rules over operations and the SQL they produce."""

from django_zero_downtime.findings.approvals import suppress

__all__ = ["suppress"]
