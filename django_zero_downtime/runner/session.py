"""One safemigrate run against one database: lock, plan, judge, record, apply, report."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.management.sql import emit_post_migrate_signal, emit_pre_migrate_signal
from django.db.migrations.executor import MigrationExecutor
from django.db.models.functions import Now

from django_zero_downtime import conf
from django_zero_downtime import ledger as cycles
from django_zero_downtime.exceptions import RefusedByRule, ZeroDowntimeError
from django_zero_downtime.findings import locate
from django_zero_downtime.findings.catalogue import Violation
from django_zero_downtime.findings.factory import make_finding
from django_zero_downtime.findings.model import Finding
from django_zero_downtime.findings.render import brief
from django_zero_downtime.models import DeployCycle
from django_zero_downtime.runner import engagement, exclusion, failures, heap, phases
from django_zero_downtime.runner import release as run_release
from django_zero_downtime.runner.apply import Applier, Limits
from django_zero_downtime.runner.exclusion import RunLock
from django_zero_downtime.runner.locks import connect_kwargs
from django_zero_downtime.runner.monitor import Monitor
from django_zero_downtime.runner.observe import Observer
from django_zero_downtime.runner.plan import (
    PlanEntry,
    PlanStep,
    StateTrail,
    collect_steps,
    estimate_backfills,
    format_plan,
    start_state,
)
from django_zero_downtime.runner.report import RunReport, StepReport, step_line
from django_zero_downtime.targets import migration_targets

Say = Callable[[str], None]


@dataclass(frozen=True)
class RunOptions:
    """What a run needs of the command's options (typed; the rest stays in the command)."""

    app_label: str | None = None
    migration_name: str | None = None
    release: str | None = None
    verbosity: int = 1
    interactive: bool = False
    verify: bool = False

    @classmethod
    def from_command(cls, options: Mapping[str, Any]) -> RunOptions:
        return cls(
            app_label=options.get("app_label"),
            migration_name=options.get("migration_name"),
            release=options.get("release"),
            verbosity=int(options.get("verbosity", 1)),
            interactive=bool(options.get("interactive", False)),
            verify=bool(options.get("verify", False)),
        )


LEDGER_APP = DeployCycle._meta.app_label


def plan_for(executor: MigrationExecutor, options: RunOptions) -> list[PlanEntry]:
    """The plan; a run with a release label also brings the ledger up to date first (new
    tables and nullable columns only), so the release is recorded on a fresh database too."""
    targets = migration_targets(executor.loader, options.app_label, options.migration_name)
    if options.release and options.app_label not in (None, LEDGER_APP):
        targets = [*executor.loader.graph.leaf_nodes(LEDGER_APP), *targets]
    return list(executor.migration_plan(targets))


def refusals(steps: list[PlanStep]) -> list[Finding]:
    """Operations that refused themselves while their SQL was collected (ledger gates)."""
    found = [
        make_finding(
            Violation("ZDT403", step.refusal),
            locate.location(step.app, step.migration, step.index, step.operation),
        )
        for step in steps
        if step.refusal
    ]
    return [finding for finding in found if finding is not None]


def refused(findings: list[Finding]) -> RefusedByRule:
    text = "\n".join(brief(finding) for finding in findings)
    exc = RefusedByRule(f"safemigrate refused to run (nothing was applied):\n{text}")
    exc.findings = findings  # type: ignore[attr-defined]
    return exc


FRESH_DATABASE = (
    "No migration is applied on this database yet, so no release can be serving from it: "
    "the deploy-cycle gates of drops are open for this run (the whole history applies)."
)


def _by_key(plan: list[PlanEntry]) -> Iterator[tuple[tuple[str, str], Any]]:
    return (((m.app_label, m.name), m) for m, _ in plan)


@dataclass
class Planned:
    """What ``--plan`` judged: for ``--format json``/``github`` (runner/cli.py)."""

    steps: list[PlanStep]
    verdicts: dict[str, list[str]]
    findings: list[Finding]


class Run:
    def __init__(
        self, connection: Any, options: RunOptions, limits: Limits, report: RunReport, say: Say
    ) -> None:
        self.connection = connection
        self.options = options
        self.limits = limits
        self.report = report
        self.say = say
        self.alias = connection.alias
        self.heartbeat: Callable[[str, float, int], None] | None = None
        """Takes the monitor's periodic progress call instead of printing it (progress.py)."""
        self._pid = 0
        self.lock: RunLock | None = None
        """The run lock, re-verified before every step (None for ``--plan``)."""
        self.counting_labels = True
        """No web process reports its release: labels count (runner/release.py)."""

    @heap.fewer_collections()
    def execute(self) -> int:
        self.observer = Observer(self.connection, self.options.verify)
        executor = MigrationExecutor(self.connection)
        plan = self._forward_plan(executor)
        if executor.loader.applied_migrations:
            return self._run(executor, plan)
        self.say(FRESH_DATABASE)
        with cycles.gates_open(FRESH_DATABASE):
            return self._run(executor, plan)

    def _run(self, executor: MigrationExecutor, plan: list[PlanEntry]) -> int:
        plan = phases.defer_contracts(self.connection, plan, self.options.release, self.say)
        state = start_state(executor, plan)
        ledger_ready = self._ledger_ready()
        self.counting_labels = not ledger_ready or run_release.label_counting(
            self.alias, self.options.release, self.say
        )
        tentative = self.tentative_release if ledger_ready else None
        trail = StateTrail()
        steps = collect_steps(self.connection, plan, state.clone(), tentative, trail)
        self._judge(plan, steps)
        self.observer.plan(steps)
        if ledger_ready:
            self._record_release()
        if plan:
            self._apply(plan, state, steps, trail)
        else:
            self.say("No migrations to apply.")
        if not ledger_ready and self._ledger_ready():  # the ledger was created by this run
            self._record_release()
        self._store_report()
        return 0

    def _forward_plan(self, executor: MigrationExecutor) -> list[PlanEntry]:
        """The plan, after the checks ``migrate`` makes; refused if it goes backwards."""
        executor.recorder.ensure_schema()
        executor.loader.check_consistent_history(self.connection)
        self._refuse_conflicts(executor)
        plan = plan_for(executor, self.options)
        backwards = [engagement.backwards_finding(m) for m, back in plan if back]
        if backwards:
            raise refused(backwards)
        return plan

    @heap.fewer_collections()
    def show_plan(self) -> int:
        """``--plan``: print the steps, their locks and verdicts; 1 if the run would be refused."""
        executor = MigrationExecutor(self.connection)
        plan = plan_for(executor, self.options)
        findings = [engagement.backwards_finding(m) for m, back in plan if back]
        forwards = [entry for entry in plan if not entry[1]]
        forwards = phases.defer_contracts(self.connection, forwards, self.options.release, self.say)
        tentative = self._tentative_plan if self._ledger_ready() else None
        steps = collect_steps(self.connection, forwards, start_state(executor, plan), tentative)
        estimate_backfills(self.connection, steps)
        size_findings, verdicts = engagement.judge_steps(
            self.connection, steps, dict(_by_key(plan)), conf.get_settings().LARGE_TABLE_ROWS
        )
        for line in format_plan(steps, verdicts, self.options.verbosity):
            self.say(line)
        findings += [*size_findings, *refusals(steps)]
        self.planned = Planned(steps, verdicts, locate.fill(findings))
        for finding in findings:
            self.say(brief(finding))
        return 1 if any(finding.is_error for finding in findings) else 0

    def _refuse_conflicts(self, executor: MigrationExecutor) -> None:
        conflicts = executor.loader.detect_conflicts()
        if conflicts:
            names = "; ".join(f"{app}: {', '.join(sorted(n))}" for app, n in conflicts.items())
            raise ZeroDowntimeError(
                f"Conflicting migrations (more than one leaf per app): {names}. "
                "Fix with `manage.py makemigrations --merge` and deploy the merge migration."
            )

    def _judge(self, plan: list[PlanEntry], steps: list[PlanStep]) -> None:
        limit = conf.get_settings().LARGE_TABLE_ROWS
        findings, _ = engagement.judge_steps(self.connection, steps, dict(_by_key(plan)), limit)
        findings.extend(refusals(steps))
        for warning in [finding for finding in findings if not finding.is_error]:
            self.say(brief(warning))
        if any(finding.is_error for finding in findings):
            raise refused([finding for finding in findings if finding.is_error])

    def _apply(
        self, plan: list[PlanEntry], state: Any, steps: list[PlanStep], trail: StateTrail
    ) -> None:
        reports = {
            s.key: StepReport(s.app, s.migration, s.index, s.operation, s.description)
            for s in steps
        }
        self.report.steps = list(reports.values())
        self._pid = self._migration_pid()
        monitor = Monitor(
            connect_kwargs(self.connection),
            self._pid,
            self.limits.budget_ms,
            self._progress,
            self.limits.lock_timeout_ms,
        )
        monitor.start()

        def stop() -> None:
            monitor.stop()
            self._copy_stats(monitor, reports)

        applier = Applier(self.connection, self.limits, monitor, reports, self.say, self.report)
        applier.checkpoint = self._checkpoint
        applier.trail = trail
        try:
            with self.observer.watching(self.report, self.limits.budget_ms, stop):
                self._apply_all(applier, plan, state, reports)
        finally:
            stop()

    def _apply_all(self, applier: Applier, plan: list[PlanEntry], state: Any, reports: Any) -> None:
        self._signal(emit_pre_migrate_signal, state.apps, plan)
        for migration, _ in plan:
            state = self._apply_one(applier, migration, state, reports)
        self._signal(emit_post_migrate_signal, self._final_apps(applier.trail), plan)

    def _apply_one(self, applier: Applier, migration: Any, state: Any, reports: Any) -> Any:
        label = f"{migration.app_label}.{migration.name}"
        self.say(f"Applying {label}...")
        started = time.monotonic()
        try:
            state = applier.apply(migration, state)
        except ZeroDowntimeError:
            raise
        except Exception as exc:
            self.report.stayed_applied = [] if migration.atomic else list(applier.committed)
            key = self.report.current_step
            raise failures.step_failed(
                exc, key, reports.get(key), migration, applier.committed
            ) from exc
        self.report.applied.append(label)
        self.say(f"  OK ({time.monotonic() - started:.2f}s)")
        for step in reports.values():
            if (step.app, step.migration) == (migration.app_label, migration.name):
                self.say(step_line(step))
        return state

    def _migration_pid(self) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return int(cursor.fetchone()[0])

    def _checkpoint(self, where: str) -> None:
        """Before every step: the run lock is ours and the migration session is the one
        the monitor watches (a transaction pooler would hand out another)."""
        if self.lock is None:
            return
        with self.connection.cursor() as cursor:
            pid = self.lock.verify_on(cursor, where)
        if pid != self._pid:
            raise exclusion.PoolerRefused(
                f"Stopped before {where}: the migration session's server connection changed. "
                + exclusion.POOLER_FIX.format(alias=self.alias, where="its server")
            )

    def _progress(self, step: str, elapsed: float, blocked: int) -> None:
        if self.heartbeat is not None:
            self.heartbeat(step, elapsed, blocked)
            return
        self.say(
            f"    ... {step} running for {elapsed:.0f}s, {blocked} live sessions waiting on it"
        )

    def _signal(self, emit: Callable[..., None], apps: Any, plan: list[PlanEntry]) -> None:
        emit(self.options.verbosity, self.options.interactive, self.alias, apps=apps, plan=plan)

    def _final_apps(self, trail: StateTrail | None = None) -> Any:
        """The models after the run: the plan's final state when the apply followed it to the
        end (as Django's ``migrate`` uses its executor's), else built again from the graph."""
        if trail is not None and trail.final is not None:
            trail.final.clear_delayed_apps_cache()
            return trail.final.apps
        executor = MigrationExecutor(self.connection)
        final_state = executor._create_project_state(with_applied_migrations=True)  # type: ignore[attr-defined]
        return final_state.apps

    def _copy_stats(self, monitor: Monitor, reports: dict[str, StepReport]) -> None:
        for key, stats in monitor.stats.items():
            if key in reports:
                step = reports[key]
                step.lock_wait_s = round(stats.lock_wait_s, 3)
                step.blocked_sessions = len(stats.blocked_pids)
                step.longest_block_ms = round(stats.longest_block_s * 1000, 1)
                step.budget_cancels = stats.budget_cancels

    def _ledger_ready(self) -> bool:
        with self.connection.cursor() as cursor:
            tables = self.connection.introspection.table_names(cursor)
        return DeployCycle._meta.db_table in tables

    def tentative_release(self) -> None:
        """Record the release inside the plan's rolled-back transaction, so drop gates judge
        the plan with this release counted (it is recorded for real only if not refused)."""
        if self.options.release:
            cycles.record_release(self.options.release, self.alias, self.counting_labels)

    def _tentative_plan(self) -> None:
        """``--plan``: count served releases and the label in the rolled-back transaction."""
        quiet: Say = lambda line: None  # noqa: E731
        self.counting_labels = run_release.label_counting(self.alias, self.options.release, quiet)
        self.tentative_release()

    def _record_release(self) -> None:
        label = self.options.release
        if label:
            counting = self.counting_labels
            self.report.cycle = run_release.record(self.alias, label, counting, self.say)

    def _store_report(self) -> None:
        label = self.options.release
        if label and self._ledger_ready():
            self.report.finish(0)
            DeployCycle.objects.using(self.alias).filter(release=label).update(
                finished_at=Now(), report=self.report.to_dict()
            )
