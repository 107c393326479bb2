"""Formatting findings: ``text`` for people, ``json`` for tools, ``github`` annotations.

Used by ``safemigrate --check``, ``--plan`` and ``--rehearse`` alike: every JSON output is
one document, ``{"version": 1, "command": ..., "findings": [...], "summary": {...}}``
plus the command's own details (docs/commands.md#json-output).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django_zero_downtime.findings.model import Finding
from django_zero_downtime.lint.engine import LintResult

FORMATS = ("text", "json", "github")
SCHEMA_VERSION = 1
"""Version of the JSON document; bumped only when a key changes meaning or goes away."""
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


def finding_json(finding: Finding) -> dict[str, Any]:
    return {key: finding.to_dict()[key] for key in JSON_FIELDS}


def document(command: str, findings: list[Finding], totals: dict[str, Any], **extra: Any) -> str:
    """The JSON document every command writes (``command``: check, plan or rehearse)."""
    body = {
        "version": SCHEMA_VERSION,
        "command": command,
        "findings": [finding_json(f) for f in findings],
        "summary": totals,
        **extra,
    }
    return json.dumps(body, indent=2, default=str)


def counts(findings: list[Finding]) -> dict[str, int]:
    errors = sum(1 for f in findings if f.is_error)
    return {"errors": errors, "warnings": len(findings) - errors}


def as_json(result: LintResult) -> str:
    return document("check", result.findings, summary(result))


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
    return github(result.findings, notes(result), _summary_line(result))


def github(findings: list[Finding], notices: list[str], closing: str) -> str:
    """GitHub Actions workflow commands: one annotation per finding, then the summary."""
    lines = []
    for finding in findings:
        props = [f"file={_escape_property(finding.file)}"] if finding.file else []
        if finding.line:
            props.append(f"line={finding.line}")
        props.append(f"title={_escape_property(f'{finding.rule} {finding.name}')}")
        body = finding.message + ("\n" + finding.hint if finding.hint else "")
        lines.append(f"::{finding.severity} {','.join(props)}::{_escape_data(body)}")
    lines += [f"::notice::{_escape_data(note)}" for note in notices]
    lines.append(closing)
    return "\n".join(lines)
