"""The one rendering of findings: a function per output format.

``render(findings, fmt)`` is the entry point (``fmt`` in :data:`FORMATS`); a
:class:`Summary` adds what a command wants said once (counts, notes, a closing line).

- ``text``: for people, ``path:line: severity: CODE name [app.migration, operation]``.
- ``json``: one versioned document, ``{"version": 1, "findings": [...], "summary": {...}}``
  (fields in :data:`FINDING_FIELDS`; docs/commands.md documents it).
- ``github``: GitHub Actions workflow commands (annotations on the pull request).
- ``sarif``: SARIF 2.1.0 (GitHub code scanning and other SARIF readers).
- ``gitlab``: GitLab Code Quality JSON (merge-request widget).

:func:`brief` is the short form the runner and the rehearsal print inline, and
:func:`check_message` the Django system-check form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core import checks

from django_zero_downtime.findings import json_text
from django_zero_downtime.findings.model import Finding

FORMATS = ("text", "json", "github", "sarif", "gitlab")
JSON_VERSION = 1
FINDING_FIELDS = (
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
TOOL = "django-zero-downtime"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass
class Summary:
    """What a run says once besides its findings (all optional)."""

    counts: dict[str, Any] = field(default_factory=dict)
    """Extra figures for the JSON summary (e.g. ``migrations_linted``)."""
    notes: list[str] = field(default_factory=list)
    """What could not be checked and why: ``note:`` lines, GitHub notices, SARIF notifications."""
    closing: str = ""
    """The last line of the text and GitHub output."""


def render(findings: Sequence[Finding], fmt: str, summary: Summary | None = None) -> str:
    """``findings`` in format ``fmt`` (one of :data:`FORMATS`)."""
    renderers: dict[str, Callable[[Sequence[Finding], Summary], str]] = {
        "text": as_text,
        "json": as_json,
        "github": as_github,
        "sarif": as_sarif,
        "gitlab": as_gitlab,
    }
    if fmt not in renderers:
        raise ValueError(f"Unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}.")
    return renderers[fmt](findings, summary or Summary())


def render_command(
    command: str, findings: Sequence[Finding], fmt: str, summary: Summary, **details: Any
) -> str:
    """:func:`render` for one command's output (check, plan, rehearse): in JSON the
    document also names the command and carries its own details (steps, migrations)."""
    if fmt != "json":
        return render(findings, fmt, summary)
    body = {**json_document(findings, summary), "command": command, **details}
    return json_text.dumps(body, default=str)


def finding_dict(finding: Finding) -> dict[str, Any]:
    """One finding as the JSON document (and the runner's report) shows it."""
    data = finding.to_dict()
    return {key: data[key] for key in FINDING_FIELDS}


def path_of(finding: Finding) -> str:
    """The finding's file; without one, the migration's usual path; "" for neither."""
    if finding.file or not finding.migration:
        return finding.file
    return f"{finding.app}/migrations/{finding.migration}.py"


def location(finding: Finding) -> str:
    """``file:line`` (``file`` alone without a line)."""
    where = path_of(finding)
    return f"{where}:{finding.line}" if where and finding.line else where


# --- text -------------------------------------------------------------------------------


def as_text(findings: Sequence[Finding], summary: Summary) -> str:
    lines: list[str] = []
    for finding in findings:
        head = f"{location(finding)}: {finding.severity}: {finding.rule} {finding.name}"
        lines.append(head + _where(finding))
        lines.append(f"    {finding.message}")
        lines += [f"    | {line}" for line in finding.hint.splitlines()]
    lines += [f"note: {note}" for note in summary.notes]
    lines += [summary.closing] if summary.closing else []
    return "\n".join(lines)


def _where(finding: Finding) -> str:
    if not finding.migration:
        return ""
    operation = (
        f", operation {finding.operation_index} ({finding.operation})"
        if finding.operation_index is not None
        else ""
    )
    return f" [{finding.app}.{finding.migration}{operation}]"


def brief(finding: Finding, indent: str = "") -> str:
    """Two lines for inline output: ``CODE name: message`` and the hint under it."""
    hint = "\n".join(f"{indent}  {line}" for line in finding.hint.splitlines())
    return f"{indent}{finding.rule} {finding.name}: {finding.message}" + (
        f"\n{hint}" if hint else ""
    )


# --- json -------------------------------------------------------------------------------


def json_document(findings: Sequence[Finding], summary: Summary) -> dict[str, Any]:
    errors = sum(1 for finding in findings if finding.is_error)
    counts = {"errors": errors, "warnings": len(findings) - errors, **summary.counts}
    return {
        "version": JSON_VERSION,
        "findings": [finding_dict(finding) for finding in findings],
        "summary": {**counts, "notes": list(summary.notes)},
    }


def as_json(findings: Sequence[Finding], summary: Summary) -> str:
    return json_text.dumps(json_document(findings, summary))


# --- github -----------------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def as_github(findings: Sequence[Finding], summary: Summary) -> str:
    """GitHub Actions workflow commands: one annotation per finding, then the summary."""
    lines = []
    for finding in findings:
        props = [f"file={_escape_property(finding.file)}"] if finding.file else []
        if finding.line:
            props.append(f"line={finding.line}")
        props.append(f"title={_escape_property(f'{finding.rule} {finding.name}')}")
        body = finding.message + ("\n" + finding.hint if finding.hint else "")
        lines.append(f"::{finding.severity} {','.join(props)}::{_escape_data(body)}")
    lines += [f"::notice::{_escape_data(note)}" for note in summary.notes]
    lines += [summary.closing] if summary.closing else []
    return "\n".join(lines)


# --- sarif ------------------------------------------------------------------------------


def _sarif_rule(code: str, name: str) -> dict[str, Any]:
    from django_zero_downtime.findings.catalogue import RULES  # only once a finding shows

    rule = RULES.get(code)
    descriptor: dict[str, Any] = {"id": code, "name": name}
    if rule is not None:
        descriptor["shortDescription"] = {"text": rule.summary}
        descriptor["defaultConfiguration"] = {"level": rule.severity}
        descriptor["properties"] = {"docs": f"docs/{rule.page}#{rule.name}"}
    return descriptor


def _sarif_result(finding: Finding, rule_index: int) -> dict[str, Any]:
    text = finding.message + ("\n" + finding.hint if finding.hint else "")
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": finding.severity,
        "message": {"text": text},
    }
    path = path_of(finding)
    if path:
        physical: dict[str, Any] = {"artifactLocation": {"uri": path, "uriBaseId": "SRCROOT"}}
        if finding.line:
            physical["region"] = {"startLine": finding.line}
        result["locations"] = [{"physicalLocation": physical}]
    return result


def sarif_document(findings: Sequence[Finding], summary: Summary) -> dict[str, Any]:
    from django_zero_downtime import __version__

    codes = list(dict.fromkeys((f.rule, f.name) for f in findings))
    index = {code: i for i, (code, _) in enumerate(codes)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL,
                "version": __version__,
                "informationUri": "https://pypi.org/project/django-zero-downtime/",
                "rules": [_sarif_rule(code, name) for code, name in codes],
            }
        },
        "results": [_sarif_result(f, index[f.rule]) for f in findings],
    }
    if summary.notes:
        notes = [{"message": {"text": note}, "level": "note"} for note in summary.notes]
        run["invocations"] = [{"executionSuccessful": True, "toolExecutionNotifications": notes}]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def as_sarif(findings: Sequence[Finding], summary: Summary) -> str:
    return json_text.dumps(sarif_document(findings, summary))


# --- gitlab -----------------------------------------------------------------------------

GITLAB_SEVERITY = {"error": "major", "warning": "minor"}


def _fingerprint(finding: Finding) -> str:
    key = "|".join(
        [finding.rule, finding.app, finding.migration, str(finding.operation_index), finding.file]
    )
    return hashlib.sha256(f"{key}|{finding.message}".encode()).hexdigest()[:32]


def gitlab_document(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """GitLab Code Quality: one issue per finding (path, begin line, severity, fingerprint)."""
    return [
        {
            "description": f"{f.rule} {f.name}: {f.message}",
            "check_name": f.rule,
            "fingerprint": _fingerprint(f),
            "severity": GITLAB_SEVERITY.get(f.severity, "minor"),
            "location": {
                "path": path_of(f),
                "lines": {"begin": f.line or 1},
            },
        }
        for f in findings
    ]


def as_gitlab(findings: Sequence[Finding], summary: Summary) -> str:
    return json_text.dumps(gitlab_document(findings))


# --- Django system checks ---------------------------------------------------------------


def check_message(
    finding: Finding, check_id: str | None = None, extra_hint: str = ""
) -> checks.CheckMessage:
    """A finding as a system-check message.

    A migration finding (reported under ``check_id``, e.g. ``zdt.E010``) reads
    ``app.migration: CODE name: message`` with ``file:line`` as the object; a file finding
    (the guard's, whose rule is the check id) reads ``path:line: message``."""
    level = checks.Error if finding.is_error else checks.Warning
    hint = finding.hint + extra_hint
    if finding.migration:
        text = (
            f"{finding.app}.{finding.migration}: {finding.rule} {finding.name}: {finding.message}"
        )
        return level(text, hint=hint, obj=location(finding) or None, id=check_id or finding.rule)
    where = f"{location(finding)}: " if finding.file else ""
    return level(where + finding.message, hint=hint, id=check_id or finding.rule)
