"""A finding: one rule's verdict on one operation of one migration.

Shared by the checker (lint), the compatibility check (compat) and the runner's rules of
engagement, so every face of the product reports problems the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    rule: str
    """Rule code, e.g. ``ZDT101``."""
    name: str
    """Kebab-case rule name, e.g. ``drop-column``; also the docs anchor."""
    severity: Severity
    message: str
    """One line: what is wrong, with the user's model/field/table names."""
    hint: str
    """The safe alternative, filled in with the user's names (may span lines)."""
    app: str
    migration: str
    operation_index: int | None = None
    operation: str = ""
    """Class name of the operation, e.g. ``RemoveField`` (empty for migration-level)."""
    file: str = ""
    line: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        """Every field (all plain values: no deep copy, unlike ``dataclasses.asdict``, which
        cost a checker run of 3,000 migrations a tenth of its JSON report)."""
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(item.name for item in fields(Finding))
