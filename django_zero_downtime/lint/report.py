"""What ``safemigrate --check`` says besides its findings: the summary, for the renderer.

The formats themselves live in :mod:`django_zero_downtime.findings.render`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django_zero_downtime.findings import render as renderer
from django_zero_downtime.lint.engine import LintResult

FORMATS = renderer.FORMATS


def summary(result: LintResult) -> dict[str, Any]:
    return renderer.json_document(result.findings, run_summary(result))["summary"]


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


def run_summary(result: LintResult) -> renderer.Summary:
    counts = {
        "migrations_linted": len(result.linted),
        "suppressed": result.suppressed,
        "sql_not_rendered": len(result.uncollected),
    }
    return renderer.Summary(counts, notes(result), _closing(result))


def _closing(result: LintResult) -> str:
    errors = len(result.errors)
    suppressed = f", {result.suppressed} suppressed" if result.suppressed else ""
    return (
        f"{errors} error(s), {len(result.findings) - errors} warning(s) in "
        f"{len(result.linted)} migration(s){suppressed}."
    )


def render(result: LintResult, fmt: str) -> str:
    return renderer.render_command("check", result.findings, fmt, run_summary(result))


def as_text(result: LintResult) -> str:
    return render(result, "text")
