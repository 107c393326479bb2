"""The deploy pre-step: ``manage.py safemigrate`` as its own process, and its report.

The report file is written by the runner (``safemigrate --report FILE.json``); its shape
belongs to the runner, so it is read defensively here: whatever of duration, lock waits,
retries and blocked sessions it holds is shown, and nothing else is assumed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXIT_MEANINGS = {
    0: "applied",
    1: "refused by a rule",
    2: "gave up on locks",
    3: "error",
    4: "applied, not verified",
}
TIMEOUT_S = 600.0


@dataclass(frozen=True)
class PreStep:
    """One ``safemigrate`` run: what was asked, how it ended, what it reported."""

    app: str
    migration: str | None
    label: str
    exit_code: int
    seconds: float
    output: str
    report: dict[str, Any] | None
    page: Path | None = None
    """The HTML report of the run (``safemigrate --report-html``), when it was written."""

    @property
    def outcome(self) -> str:
        """What the run did, agreeing with its report: a run with nothing pending did not
        apply anything (its report says ``nothing applied``)."""
        if self.exit_code == 0 and self.report is not None and self.report.get("applied") == []:
            return "nothing to apply"
        return EXIT_MEANINGS.get(self.exit_code, f"exit code {self.exit_code}")

    @property
    def command(self) -> str:
        target = " ".join(p for p in (self.app, self.migration) if p)
        return f"safemigrate {target} --release {self.label}"


def safemigrate_command(
    manage_py: Path,
    app: str,
    migration: str | None,
    label: str,
    report: Path,
    page: Path | None = None,
) -> list[str]:
    """Pure: the pre-step's command line (``page``: also the HTML report)."""
    target = [app] + ([migration] if migration else [])
    html = ["--report-html", str(page)] if page else []
    return [
        sys.executable, str(manage_py), "safemigrate", *target,
        "--release", label, "--report", str(report), "--no-input", *html,
    ]  # fmt: skip


def run(
    manage_py: Path,
    app: str,
    migration: str | None,
    label: str,
    env: Mapping[str, str],
    report_dir: Path,
) -> PreStep:
    """Run ``safemigrate`` for ``app``/``migration`` as release ``label``; wait for it."""
    report = report_dir / f"safemigrate-{label}-{app}-{int(time.time() * 1000)}.json"
    page = report.with_suffix(".html")
    started = time.monotonic()
    completed = subprocess.run(
        safemigrate_command(manage_py, app, migration, label, report, page),
        cwd=manage_py.parent,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    seconds = time.monotonic() - started
    output = (completed.stdout + completed.stderr).strip()
    shown = page if page.exists() else None
    return PreStep(
        app, migration, label, completed.returncode, seconds, output, _load(report), shown
    )


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# --- the report, read defensively -------------------------------------------------------

DURATION_KEYS = ("duration_s", "duration_ms", "duration", "seconds", "elapsed_ms")
OPERATION_LIST_KEYS = ("steps", "operations")
COUNTED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("lock timeouts", ("lock_timeouts", "lock_waits", "lock_wait_count")),
    ("retries", ("retries", "retry_count")),
    ("blocked sessions", ("blocked_sessions", "blocked_session_count", "blocked")),
)
MEASURED: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("lock wait", ("lock_wait_s",), "s"),
    ("longest block", ("longest_block_ms", "max_blocked_ms", "longest_wait_ms"), "ms"),
    ("budget cancels", ("budget_cancels",), ""),
)
NAME_KEYS = ("description", "describe", "operation", "name")


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return float(len(value))
    return None


def _first(entry: Mapping[str, Any], keys: Iterable[str]) -> tuple[str, float] | None:
    for key in keys:
        number = _number(entry.get(key))
        if number is not None:
            return key, number
    return None


def _operations(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for key in OPERATION_LIST_KEYS:
        items = report.get(key)
        if isinstance(items, list):
            found += [item for item in items if isinstance(item, Mapping)]
    migrations = report.get("migrations")
    for migration in migrations if isinstance(migrations, list) else []:
        if isinstance(migration, Mapping):
            found += _operations(migration)
    return found


def _duration(entry: Mapping[str, Any]) -> list[str]:
    hit = _first(entry, DURATION_KEYS)
    if hit is None:
        return []
    key, value = hit
    return [f"{value / 1000 if key.endswith('_ms') else value:.2f} s"]


def _name(entry: Mapping[str, Any]) -> str:
    for key in NAME_KEYS:
        if isinstance(entry.get(key), str):
            return str(entry[key])
    return "operation"


def _figures(entry: Mapping[str, Any]) -> list[str]:
    parts = _duration(entry)
    for label, keys in COUNTED:
        hit = _first(entry, keys)
        parts += [f"{label} {hit[1]:g}"] if hit else []
    for label, measured_keys, unit in MEASURED:
        hit = _first(entry, measured_keys)
        parts += [f"{label} {hit[1]:g}{' ' + unit if unit else ''}"] if hit and hit[1] else []
    return parts


def _head(report: Mapping[str, Any]) -> list[str]:
    parts = []
    if isinstance(report.get("cycle"), int):
        parts.append(f"deploy cycle {report['cycle']}")
    applied = report.get("applied")
    if isinstance(applied, list):
        parts.append("applied " + ", ".join(map(str, applied)) if applied else "nothing applied")
    parts += _figures(report)
    return ["run: " + ", ".join(parts)] if parts else []


def summarize_report(report: Mapping[str, Any] | None) -> list[str]:
    """Pure: one line for the whole run and one per operation, from whatever is there."""
    if not report:
        return ["(no report file)"]
    lines = _head(report)
    for entry in _operations(report):
        lines.append(f"{_name(entry)}: " + (", ".join(_figures(entry)) or "no figures"))
    return lines or ["(report has no figures the demo knows: " + ", ".join(sorted(report)) + ")"]


def totals(report: Mapping[str, Any] | None) -> dict[str, float]:
    """Pure: lock timeouts, retries and blocked sessions summed over the operations."""
    sums = {label: 0.0 for label, _ in COUNTED}
    for entry in _operations(report or {}):
        for label, keys in COUNTED:
            hit = _first(entry, keys)
            sums[label] += hit[1] if hit else 0.0
    return sums
