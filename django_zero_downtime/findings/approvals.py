"""Suppressions: a reviewed, reasoned exception to a rule, kept in the migration file.

On the migration class (every operation)::

    class Migration(migrations.Migration):
        zero_downtime = {"ZDT103": "approved by DBA: the table is empty"}

or on one operation::

    from django_zero_downtime.lint import suppress
    operations = [suppress(migrations.RemoveField("shop", "legacy"), {"ZDT101": "never read"})]

A suppression without a reason is itself an error (ZDT191); one that suppresses nothing is
a warning (ZDT192), so stale approvals do not pile up. Codes outside the checker's ranges
(``ZDT4xx`` live-database approvals, ``ZDT5xx``) are accepted and left to their owners.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django_zero_downtime.findings.catalogue import RULES, Violation

MARKER = "zero_downtime"
_CODE = re.compile(r"^ZDT\d{3}$")
Op = TypeVar("Op")


def suppress(operation: Op, reasons: Mapping[str, str]) -> Op:
    """Mark one operation: ``reasons`` maps rule codes to why it is safe here."""
    setattr(operation, MARKER, dict(reasons))
    return operation


@dataclass
class Suppressions:
    """The valid suppressions of one migration and the problems found reading them."""

    migration: dict[str, str] = field(default_factory=dict)
    operations: dict[int, dict[str, str]] = field(default_factory=dict)
    problems: list[tuple[int | None, Violation]] = field(default_factory=list)
    used: set[tuple[int | None, str]] = field(default_factory=set)

    def matches(self, code: str, operation_index: int | None) -> bool:
        """True (and remembered as used) when ``code`` is suppressed at that operation."""
        if operation_index is not None and code in self.operations.get(operation_index, {}):
            self.used.add((operation_index, code))
            return True
        if code in self.migration:
            self.used.add((None, code))
            return True
        return False

    def unused(self) -> list[tuple[int | None, str]]:
        declared: list[tuple[int | None, str]] = [(None, code) for code in self.migration]
        declared += [(i, code) for i, codes in self.operations.items() for code in codes]
        return [item for item in declared if item not in self.used and item[1] in RULES]


def read_suppressions(migration: Any) -> Suppressions:
    found = Suppressions()
    found.migration = _parse(getattr(migration, MARKER, None), None, "Migration", found)
    for index, operation in enumerate(migration.operations):
        marker = getattr(operation, MARKER, None)
        if marker is not None:
            where = f"operation {index} ({type(operation).__name__})"
            found.operations[index] = _parse(marker, index, where, found)
    return found


def _parse(marker: Any, index: int | None, where: str, found: Suppressions) -> dict[str, str]:
    if marker is None:
        return {}
    if not isinstance(marker, Mapping):
        found.problems.append((index, _no_reason(where, f"{MARKER} = {marker!r}")))
        return {}
    valid: dict[str, str] = {}
    for code, reason in marker.items():
        if not isinstance(code, str) or not _CODE.match(code.upper()):
            found.problems.append(
                (
                    index,
                    Violation(
                        "ZDT192",
                        f"{where}: {MARKER} names {code!r}, which is not a rule code.",
                        'Use codes like "ZDT101"; see docs/rules.md.',
                    ),
                )
            )
        elif not isinstance(reason, str) or not reason.strip():
            found.problems.append((index, _no_reason(where, f"{code!r}: {reason!r}")))
        else:
            valid[code.upper()] = reason.strip()
    return valid


def _no_reason(where: str, given: str) -> Violation:
    return Violation(
        "ZDT191",
        f"{where}: suppression {given} gives no reason; it is ignored.",
        f'Write why it is safe, reviewed like code: {MARKER} = {{"ZDT101": "approved by DBA: '
        'the column is unused since release 41"}.',
    )
