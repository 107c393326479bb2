"""The one severity and selection policy: ``ZDT_RULES_SELECT``, ``_IGNORE`` and ``_SEVERITY``.

Every face (checker, runner, rehearsal, blue/green) asks it, so a code or a prefix
(``"ZDT5"`` = every blue/green rule) means the same everywhere. Rules the product enforces
whatever the settings (``Rule.configurable = False``: ZDT402, ZDT403) keep their severity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from django_zero_downtime import conf
from django_zero_downtime.findings.catalogue import RULES, matches
from django_zero_downtime.findings.model import Finding, Severity


@dataclass(frozen=True)
class Policy:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls) -> Policy:
        settings = conf.get_settings()
        return cls(settings.RULES_SELECT, settings.RULES_IGNORE, settings.RULES_SEVERITY)

    def severity_of(self, code: str, default: Severity | None = None) -> Severity | None:
        """The severity ``code`` reports with, or ``None`` when the settings switch it off."""
        return effective_severity(code, self.select, self.ignore, self.severity, default)

    def apply(self, findings: Iterable[Finding]) -> list[Finding]:
        """``findings`` without the switched-off rules, with overridden severities."""
        kept = []
        for found in findings:
            severity = self.severity_of(found.rule, found.severity)
            if severity is not None:
                kept.append(replace(found, severity=severity))
        return kept


def _override(code: str, overrides: Mapping[str, str]) -> str | None:
    """The override of the longest pattern (code or prefix) that matches ``code``."""
    hits = sorted((p for p in overrides if code.startswith(p.upper())), key=len)
    return overrides[hits[-1]] if hits else None


def effective_severity(
    code: str,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    overrides: Mapping[str, str] | None = None,
    default: Severity | None = None,
) -> Severity | None:
    """The severity a rule reports with under the settings, or ``None`` when it is off."""
    rule = RULES.get(code)
    base: Severity = default or (rule.severity if rule else "error")
    if rule is not None and not rule.configurable:
        return base
    select = tuple(select)
    if (select and not matches(code, select)) or matches(code, ignore):
        return None
    override = _override(code, overrides or {})
    if override == "off":
        return None
    if override in ("error", "warning"):
        return override  # type: ignore[return-value]
    return base
