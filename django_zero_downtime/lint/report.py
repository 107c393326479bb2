"""Formatting lint results: ``text`` for people, ``json`` for tools, ``github`` annotations."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django_zero_downtime.findings.model import Finding
from django_zero_downtime.lint.engine import LintResult

FORMATS = ("text", "json", "github")
JSON_FIELDS = (
    "app",
    "migration",
    "operation_index",
    "operation",
    "rule",
    "name",
    "severity",
    "message",
    "hint",
    "file",
    "line",
)


def summary(result: LintResult) -> dict[str, Any]:
    return {
        "errors": len(result.errors),
        "warnings": len(result.findings) - len(result.errors),
        "migrations_linted": len(result.linted),
        "suppressed": result.suppressed,
        "sql_not_rendered": len(result.uncollected),
        "notes": notes(result),
    }


def notes(result: LintResult) -> list[str]:
    """Said once per run: what could not be checked and why."""
    out = list(result.notes)
    if result.uncollected:
        kinds = Counter(item.operation for item in result.uncollected)
        listed = ", ".join(f"{name} x{count}" for name, count in sorted(kinds.items()))
        out.append(
            f"The SQL of {len(result.uncollected)} operation(s) ({listed}) cannot be rendered "
            "without introspecting a database; they were judged by the operation rules only."
        )
    return out


def render(result: LintResult, fmt: str) -> str:
    if fmt == "json":
        return as_json(result)
    if fmt == "github":
        return as_github(result)
    return as_text(result)


def as_json(result: LintResult) -> str:
    findings = [{key: finding.to_dict()[key] for key in JSON_FIELDS} for finding in result.findings]
    return json.dumps({"findings": findings, "summary": summary(result)}, indent=2)


def _location(finding: Finding) -> str:
    where = finding.file or f"{finding.app}/migrations/{finding.migration}.py"
    return f"{where}:{finding.line}" if finding.line else where


def as_text(result: LintResult) -> str:
    lines: list[str] = []
    for finding in result.findings:
        operation = (
            f", operation {finding.operation_index} ({finding.operation})"
            if finding.operation_index is not None
            else ""
        )
        lines.append(
            f"{_location(finding)}: {finding.severity}: {finding.rule} {finding.name} "
            f"[{finding.app}.{finding.migration}{operation}]"
        )
        lines.append(f"    {finding.message}")
        lines += [f"    | {line}" for line in finding.hint.splitlines()]
    lines += [f"note: {note}" for note in notes(result)]
    lines.append(_summary_line(result))
    return "\n".join(lines)


def _summary_line(result: LintResult) -> str:
    counts = summary(result)
    suppressed = f", {counts['suppressed']} suppressed" if counts["suppressed"] else ""
    return (
        f"{counts['errors']} error(s), {counts['warnings']} warning(s) in "
        f"{counts['migrations_linted']} migration(s){suppressed}."
    )


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def as_github(result: LintResult) -> str:
    """GitHub Actions workflow commands: one annotation per finding, then the summary."""
    lines = []
    for finding in result.findings:
        props = [f"file={_escape_property(finding.file)}"] if finding.file else []
        if finding.line:
            props.append(f"line={finding.line}")
        props.append(f"title={_escape_property(f'{finding.rule} {finding.name}')}")
        body = finding.message + ("\n" + finding.hint if finding.hint else "")
        lines.append(f"::{finding.severity} {','.join(props)}::{_escape_data(body)}")
    lines += [f"::notice::{_escape_data(note)}" for note in notes(result)]
    lines.append(_summary_line(result))
    return "\n".join(lines)
