"""Suppressions with reasons, and the ZDT_RULES_* settings."""

from __future__ import annotations

import re

from django.db import migrations

from django_zero_downtime.findings.catalogue import RULES, unknown_codes
from django_zero_downtime.findings.policy import effective_severity
from django_zero_downtime.lint import suppress
from django_zero_downtime.lint.engine import LintConfig
from tests.lint.helpers import codes, lint, lint_result

DROP = migrations.RemoveField("item", "note")


def test_migration_level_suppression_with_reason() -> None:
    result = lint_result([DROP], zero_downtime={"ZDT101": "approved by DBA: column unused"})
    assert result.findings == []
    assert result.suppressed == 1


def test_suppression_without_reason_is_an_error_and_does_not_apply() -> None:
    findings = lint([DROP], zero_downtime={"ZDT101": "  "})
    assert sorted(f.rule for f in findings) == ["ZDT101", "ZDT191"]
    assert all(f.severity == "error" for f in findings)


def test_malformed_marker_is_reported_not_raised() -> None:
    assert codes([DROP], zero_downtime=["ZDT101"]) == ["ZDT191", "ZDT101"]
    assert "ZDT192" in codes([DROP], zero_downtime={"drop it": "because"})


def test_operation_level_suppression_only_covers_that_operation() -> None:
    first = suppress(migrations.RemoveField("item", "note"), {"ZDT101": "never read since v41"})
    second = migrations.RemoveField("item", "name")
    findings = lint([first, second])
    assert [(f.rule, f.operation_index) for f in findings] == [("ZDT101", 1)]


def test_unused_suppression_warns() -> None:
    findings = lint([], zero_downtime={"ZDT103": "table is empty"})
    assert [(f.rule, f.severity) for f in findings] == [("ZDT192", "warning")]


def test_other_ranges_are_accepted_for_their_owners() -> None:
    assert codes([], zero_downtime={"ZDT401": "approved by DBA: 2k rows"}) == []


def test_settings_select_ignore_and_severity() -> None:
    assert codes([DROP], config=LintConfig(ignore=("ZDT101",))) == []
    assert codes([DROP], config=LintConfig(select=("ZDT2",))) == []
    [finding] = lint([DROP], config=LintConfig(severity={"ZDT101": "warning"}))
    assert finding.severity == "warning"
    assert codes([DROP], config=LintConfig(severity={"ZDT101": "off"})) == []


def test_registry_is_consistent() -> None:
    names = [rule.name for rule in RULES.values()]
    assert len(names) == len(set(names))
    assert all(code.startswith("ZDT") and len(code) == 6 for code in RULES)
    assert effective_severity("ZDT113") == "warning"
    assert unknown_codes(["ZDT1", "ZDT999", "ZDT101"]) == ["ZDT999"]


def test_every_rule_has_its_docs_entry() -> None:
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs"
    for rule in RULES.values():
        text = (docs / rule.page).read_text()
        if rule.checked_statically:
            heading = f"### {rule.code} `{rule.name}` ({rule.severity})"
            assert f'<a id="{rule.name}"></a>\n{heading}' in text, rule.code
        else:  # the runner's, the rehearsal's and the blue/green rules: the anchor by the code
            assert re.search(rf'<a id="{rule.name}"></a>\n?[^\n]*{rule.code}', text), rule.code
