"""The migration checker: rules over operations and the SQL they produce."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django_zero_downtime.findings.approvals import suppress

__all__ = ["suppress"]


def __getattr__(name: str) -> Any:
    """``suppress`` imported on first use: ``manage.py check`` imports this package for its
    migration check, and the rule catalogue behind ``suppress`` costs ~5 ms to import."""
    if name == "suppress":
        from django_zero_downtime.findings.approvals import suppress

        return suppress
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
