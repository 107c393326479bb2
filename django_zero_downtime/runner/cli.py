"""``safemigrate`` (default mode): apply migrations without hurting live traffic.

Order of a run: guard → one-run lock → plan → refuse backwards targets → rules of
engagement (refused before anything runs) → record the release → apply each migration with
short lock timeouts and retries while the monitor watches live traffic → report.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from django_zero_downtime import conf, events
from django_zero_downtime.exceptions import ZeroDowntimeError
from django_zero_downtime.findings import locate
from django_zero_downtime.findings import render as renderer
from django_zero_downtime.guard import runtime as guard
from django_zero_downtime.runner import failures, html_report, runlock, session, verify
from django_zero_downtime.runner.apply import Limits
from django_zero_downtime.runner.progress import Progress, Silent
from django_zero_downtime.runner.report import RunReport, summary


def limits_from(options: dict[str, Any]) -> Limits:
    """Settings, overridden by the command-line flags; flags are validated like settings."""
    settings = conf.get_settings()
    flags = {
        "--lock-timeout": (options.get("lock_timeout"), settings.LOCK_TIMEOUT_MS, 1),
        "--max-retries": (options.get("max_retries"), settings.MAX_RETRIES, 0),
        "--statement-timeout": (options.get("statement_timeout"), settings.STATEMENT_TIMEOUT_MS, 0),
        "--max-blocking": (options.get("max_blocking"), settings.MAX_BLOCKING_MS, 1),
    }
    value = {name: _flag(name, *spec) for name, spec in flags.items()}
    return Limits(
        lock_timeout_ms=value["--lock-timeout"],
        statement_timeout_ms=value["--statement-timeout"],
        max_retries=value["--max-retries"],
        backoff_ms=settings.RETRY_BACKOFF_MS,
        max_delay_ms=settings.RETRY_MAX_DELAY_MS,
        budget_ms=value["--max-blocking"],
    )


def _flag(name: str, given: int | None, default: int, minimum: int) -> int:
    if given is None:
        return default
    if given < minimum:
        message = f"{name} {given} is not valid: expected an integer >= {minimum}."
        raise CommandError(message, returncode=3)
    return given


def failure_report(options: dict[str, Any], code: int, message: str) -> None:
    """``--report`` for a run that failed before it started (when the path is writable)."""
    path = options.get("report")
    if path and failures.unwritable(path) is None:
        report = RunReport(database=options.get("database") or "", release=options.get("release"))
        report.finish(code, message)
        report.write(path)


def run(command: BaseCommand, options: dict[str, Any]) -> int:
    guard.refuse_if_web_process("safemigrate")
    options["release"] = release_label(options.get("release"))
    limits = limits_from(options)
    report = RunReport(database=options["database"], release=options.get("release"))
    report.settings = asdict(limits)
    try:
        code = _run(command, options, limits, report)
        report.finish(verified_code(code, report) if options.get("verify") else code)
    except ZeroDowntimeError as exc:
        if options.get("traceback") and isinstance(exc.__cause__, Exception):
            raise exc.__cause__ from None
        _failed(command, report, exc.exit_code, str(exc))
        report.findings.extend(getattr(exc, "findings", []))
    except DatabaseError as exc:
        if options.get("traceback"):
            raise
        where = report.current_step or "the plan"
        _failed(command, report, 3, f"safemigrate stopped on a database error in {where}: {exc}")
    report.findings[:] = locate.fill(report.findings)
    _finish(command, options, report)
    return report.exit_code


def release_label(given: str | None) -> str | None:
    """``--release``, normalised and validated before anything runs (else ZDT_RELEASE)."""
    if given is None:
        return conf.get_settings().RELEASE
    try:
        return conf.normalise_release(given)
    except conf.BadReleaseLabel as exc:
        raise CommandError(f"--release: {exc}. Nothing was applied.", returncode=3) from None


def _failed(command: BaseCommand, report: RunReport, code: int, message: str) -> None:
    report.finish(code, message.strip())
    command.stderr.write(message.strip())


def verified_code(code: int, report: RunReport) -> int:
    """``--verify``: a run that applied but hurt live traffic exits 4 (not verified)."""
    if code == 0 and report.verification and not report.verification["verified"]:
        return verify.EXIT_NOT_VERIFIED
    return code


def _run(command: BaseCommand, options: dict[str, Any], limits: Limits, report: RunReport) -> int:
    connection = connections[options["database"]]
    shown = _progress(command, options)
    run = session.Run(
        connection, session.RunOptions.from_command(options), limits, report, shown.say
    )
    run.heartbeat = shown.heartbeat
    if options.get("plan"):
        return _plan(command, run, options.get("lint_format") or "text")
    lock = runlock.run_lock(connection, no_wait=bool(options.get("no_wait")), say=shown.say)
    with lock as held, events.listening(shown, prints_messages=True):
        run.lock = held
        return run.execute()


def _progress(command: BaseCommand, options: dict[str, Any]) -> Progress:
    """The run's output: a progress line on a terminal, lines in a log, nothing at -v 0."""
    if not int(options.get("verbosity", 1)):
        return Silent()
    stream: Any = getattr(command.stdout, "_out", command.stdout)  # the real file, not Django's
    return Progress(stream, command.stdout.write)


def _plan(command: BaseCommand, run: session.Run, fmt: str) -> int:
    """``--plan`` in ``fmt``: the text table, or the one JSON document / GitHub annotations."""
    if fmt == "text":
        return run.show_plan()
    run.say = lambda line: None
    code = run.show_plan()
    planned = run.planned
    steps = [_step_json(step, planned.verdicts.get(step.key, [])) for step in planned.steps]
    closing = f"{len(planned.findings)} finding(s) in the plan of {len(steps)} step(s)."
    summary = renderer.Summary({"steps": len(steps)}, [], closing)
    command.stdout.write(
        renderer.render_command("plan", planned.findings, fmt, summary, steps=steps)
    )
    return code


def _step_json(step: Any, verdicts: list[str]) -> dict[str, Any]:
    return {
        "app": step.app, "migration": step.migration, "operation_index": step.index,
        "operation": step.operation, "description": step.description, "atomic": step.atomic,
        "lock": step.lock, "sql": step.sql, "verdicts": verdicts, "refusal": step.refusal,
        "backfill": step.backfill,
    }  # fmt: skip


def _finish(command: BaseCommand, options: dict[str, Any], report: RunReport) -> None:
    if not options.get("plan") and int(options.get("verbosity", 1)):
        for line in summary(report):
            command.stdout.write(line)
    if options.get("report"):
        report.write(options["report"])
        command.stdout.write(f"Report written to {options['report']}.")
    if options.get("report_html") and not options.get("plan"):
        _write_html(command, report, options["report_html"])


def _write_html(command: BaseCommand, report: RunReport, path: str) -> None:
    try:
        html_report.write(json.loads(json.dumps(report.to_dict(), default=str)), path)
    except ZeroDowntimeError as exc:
        command.stderr.write(str(exc))
        return
    command.stdout.write(f"HTML report written to {path}.")
