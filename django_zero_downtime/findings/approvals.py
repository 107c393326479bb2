"""Suppressions: a reviewed, reasoned exception to a rule, kept in the migration file.

On the migration class (every operation)::

    class Migration(migrations.Migration):
        zero_downtime = {"ZDT103": "approved by DBA: the table is empty"}

or on one operation::

    from django_zero_downtime.lint import suppress
    operations = [suppress(migrations.RemoveField("shop", "legacy"), {"ZDT101": "never read"})]

A suppression without a reason is itself an error (ZDT191); one that suppresses nothing is
a warning (ZDT192), so stale approvals do not pile up. The same reader serves every face:
the checker (ZDT1xx-3xx suppressions), the runner (ZDT401 approvals), the rehearsal (ZDT45x)
and the blue/green check (ZDT5xx) all ask :func:`approval` or :meth:`Suppressions.reason`,
so one approval, on the migration or on the operation, covers the danger wherever it is
judged. Only the checker's own codes can be reported as unused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.findings.catalogue import RULES, Violation
from django_zero_downtime.findings.dangers import COVERED_BY
from django_zero_downtime.findings.locate import migration_file

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
    unreasoned: set[tuple[int | None, str]] = field(default_factory=set)
    """Codes approved with an empty reason (not an approval; the runner says so)."""
    malformed: str = ""
    """The migration-level marker when it is not a mapping (as written)."""

    def reason(self, code: str, operation_index: int | None = None) -> str | None:
        """Why ``code`` is approved at that operation (or on the migration); ``""`` when it
        was approved without a reason; ``None`` when it was not approved."""
        if operation_index is not None and code in self.operations.get(operation_index, {}):
            return self.operations[operation_index][code]
        if code in self.migration:
            return self.migration[code]
        empty = {(operation_index, code), (None, code)} & self.unreasoned
        return "" if empty else None

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
        return [item for item in declared if item not in self.used and _checked(item[1])]


def _checked(code: str) -> bool:
    return code in RULES and RULES[code].checked_statically


def read_suppressions(migration: Any, *, strict: bool = False) -> Suppressions:
    """The approvals of ``migration``; ``strict``: a migration-level marker that is not a
    dict raises :class:`ZeroDowntimeError` (the runner refuses to guess)."""
    found = Suppressions()
    marker = getattr(migration, MARKER, None)
    if marker is not None and not isinstance(marker, Mapping):
        found.malformed = repr(marker)
        if strict:
            raise ZeroDowntimeError(
                f"{_file(migration)}: `{MARKER}` on {migration.app_label}.{migration.name} "
                "must be a dict of rule code to reason, e.g. "
                f'{MARKER} = {{"ZDT401": "approved by DBA: reason"}} (got {marker!r}).'
            )
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
            found.unreasoned.add((index, code.upper()))
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


def approval(migration: Any, code: str, operation_index: int | None = None) -> str | None:
    """The reason ``code`` is approved at that operation of ``migration`` (or on it). The
    approval of the same danger under another code counts too, named in the reason
    (``zero_downtime = {"ZDT105": ...}`` covers the rehearsal's ZDT451: findings/dangers.py)."""
    found = read_suppressions(migration)
    for covering in (code, *COVERED_BY.get(code, ())):
        reason = found.reason(covering, operation_index)
        if reason:
            return reason if covering == code else f"{reason} ({covering})"
    return None


def _file(migration: Any) -> str:
    return migration_file(migration) or f"{migration.app_label}/migrations/{migration.name}.py"
