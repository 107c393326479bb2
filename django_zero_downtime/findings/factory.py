"""The one factory that turns a rule's verdict into a :class:`Finding`.

Every family (checker, runner, rehearsal, blue/green) calls it: the catalogue gives the
name and the hint template, the policy the severity, the approval (if any) softens the
finding to a warning and says why, and the location gives app, migration, operation, file
and line.
"""

from __future__ import annotations

from django_zero_downtime.findings.catalogue import RULES, Violation, hint_for
from django_zero_downtime.findings.locate import Location
from django_zero_downtime.findings.model import Finding, Severity
from django_zero_downtime.findings.policy import Policy


def make_finding(
    verdict: Violation,
    where: Location,
    *,
    policy: Policy | None = None,
    severity: Severity | None = None,
    approval: str | None = None,
) -> Finding | None:
    """The finding of ``verdict`` at ``where``; ``None`` when ``policy`` switches it off.

    ``severity`` (when the caller has applied the policy itself) wins over ``policy``; an
    ``approval`` (a reason) makes an error a warning and is appended to the message."""
    rule = RULES[verdict.code]
    if severity is None:
        severity = policy.severity_of(rule.code) if policy is not None else rule.severity
    if severity is None:
        return None
    message = verdict.message
    if approval:
        severity, message = "warning", f"{message} Approved: {approval}"
    return Finding(
        rule=rule.code,
        name=rule.name,
        severity=severity,
        message=message,
        hint=hint_for(verdict),
        app=where.app,
        migration=where.migration,
        operation_index=where.operation_index,
        operation=where.operation,
        file=where.file,
        line=where.line,
    )
