"""What a safemigrate run did, for people (summary) and for the deploy pipeline (JSON).

The JSON (``--report FILE``) is a stable document, ``"format": 1``:
release label, database, outcome and exit code, applied migrations, per-step figures
(duration, lock waits, retries, blocked sessions and the longest wait they had), findings.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django_zero_downtime.findings.model import Finding
from django_zero_downtime.findings.render import finding_dict
from django_zero_downtime.runner import verify

OUTCOMES = {0: "applied", 1: "refused", 2: "gave-up-on-locks", 3: "error", 4: "not-verified"}


@dataclass
class StepReport:
    """One operation of one migration (or its deferred SQL) as it ran."""

    app: str
    migration: str
    operation_index: int | None
    operation: str
    description: str
    duration_s: float = 0.0
    lock_timeouts: int = 0
    """Attempts that failed on ``lock_timeout`` (or a deadlock)."""
    lock_wait_s: float = 0.0
    """Time the migration was seen waiting for locks held by other sessions."""
    retries: int = 0
    blocked_sessions: int = 0
    """Distinct live sessions that waited on the migration."""
    longest_block_ms: float = 0.0
    budget_cancels: int = 0
    """Times the statement was cancelled because live sessions waited beyond the budget."""
    invalid_indexes_dropped: list[str] = field(default_factory=list)
    """INVALID indexes left by an earlier failed concurrent build, dropped before rebuilding."""
    reentered: list[str] = field(default_factory=list)
    """What an earlier, killed run had left and this one adopted or finished (reentry.py)."""


@dataclass
class RunReport:
    database: str
    release: str | None = None
    cycle: int | None = None
    started_at: str = field(default_factory=lambda: _now())
    finished_at: str | None = None
    exit_code: int = 0
    message: str = ""
    current_step: str = ""
    """The step running when the run ended (where an error happened)."""
    stayed_applied: list[str] = field(default_factory=list)
    """After an error in a non-atomic migration: its statements committed before the error
    (a rerun continues from there)."""
    settings: dict[str, Any] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    steps: list[StepReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    timeline: dict[str, Any] = field(default_factory=dict)
    """Steps, samples of blocked sessions and backfill batches on one axis (timeline.py)."""
    traffic: dict[str, Any] = field(default_factory=dict)
    """pg_stat_database (and pg_stat_statements) before and during the run (verify.py)."""
    verification: dict[str, Any] = field(default_factory=dict)
    """The verdict: no wait over the budget, no climbing rollback rate (verify.py)."""

    @property
    def outcome(self) -> str:
        return OUTCOMES.get(self.exit_code, "error")

    def finish(self, exit_code: int, message: str = "") -> None:
        self.exit_code = exit_code
        self.message = message
        self.verification = verify.after_outcome(self.verification, exit_code, self.outcome)
        self.finished_at = _now()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["findings"] = [finding_dict(f) for f in self.findings]
        return {"format": 1, "outcome": self.outcome, **data}

    def write(self, path: str) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def step_line(step: StepReport) -> str:
    """One line of the human summary for a step."""
    parts = [f"{step.duration_s:.2f}s"]
    if step.retries:
        parts.append(f"{step.retries} retries ({step.lock_timeouts} lock timeouts)")
    if step.lock_wait_s:
        parts.append(f"waited {step.lock_wait_s:.1f}s for locks")
    if step.blocked_sessions:
        parts.append(
            f"blocked {step.blocked_sessions} sessions, longest {step.longest_block_ms:.0f} ms"
        )
    if step.budget_cancels:
        parts.append(f"cancelled {step.budget_cancels}x over the blocking budget")
    return f"    {step.description}: {', '.join(parts)}"


def headline(report: RunReport) -> str:
    """``safemigrate: applied (2 migrations applied)``; a run with nothing pending says so
    instead of "applied"."""
    count = len(report.applied)
    if report.exit_code == 0 and not count:
        return "safemigrate: done (nothing to apply)"
    return f"safemigrate: {report.outcome} ({count} migration{'s' * (count != 1)} applied)"


def summary(report: RunReport) -> list[str]:
    """The closing lines of the human output."""
    lines = [headline(report)]
    if report.release:
        lines.append(f"  release {report.release!r}, deploy cycle {report.cycle}")
    worst = max((s.longest_block_ms for s in report.steps), default=0.0)
    blocked = sum(s.blocked_sessions for s in report.steps)
    retries = sum(s.retries for s in report.steps)
    lines.append(
        f"  live traffic: {blocked} blocked sessions, longest wait {worst:.0f} ms; "
        f"{retries} retries"
    )
    if report.verification:
        lines.append(verify.verdict_line(report.verification))
    return lines
