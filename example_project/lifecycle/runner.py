"""Orchestration of the lifecycle demo: four releases, each deployed blue/green under traffic.

See :mod:`example_project.lifecycle.plan` for the phases of one step. The demo ends non-zero
when any request failed or read back the wrong value, when a consistency check found a row
whose ``surname`` differs from its ``last_name``, or when a pre-step did not end as expected
(release 4's drop must first be *refused*, then succeed once enough deploy cycles passed).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from example_project.lifecycle import database, prestep, servers
from example_project.lifecycle.plan import (
    BLUE_GREEN_PHASES,
    SMOKE_REQUESTS,
    DemoOptions,
    Phase,
    Step,
    extra_cycle_label,
    steps,
)
from example_project.lifecycle.prestep import PreStep
from example_project.lifecycle.stats import TrafficResult
from example_project.lifecycle.table import (
    GRPC_CHANNELS,
    PhaseResult,
    StepResult,
    grpc_requests,
    step_report,
)
from example_project.lifecycle.traffic import Budget, Driver, Target
from example_project.people.releases import release

MIGRATION_TRAFFIC_CAP = 1_000_000


class DemoAborted(RuntimeError):
    """A step could not go on (a pre-step failed, a server did not start)."""


@dataclass(frozen=True)
class Environment:
    """Where the demo runs: the project's ``manage.py``, its database, a work folder."""

    manage_py: Path
    db_config: dict[str, Any]
    base_env: dict[str, str]
    workdir: Path

    def env(self, release_number: int) -> dict[str, str]:
        return {
            **self.base_env,
            "DATABASE_URL": database.database_url(self.db_config),
            "DJANGO_SETTINGS_MODULE": "example_project.settings",
            "RELEASE": str(release_number),
            "GRPC_PORT": "0",
            "ZDT_MIN_CYCLE_INTERVAL": "0",  # releases seconds apart (example_project/settings)
        }


class LifecycleDemo:
    def __init__(
        self, where: Environment, options: DemoOptions, write: Callable[[str], None]
    ) -> None:
        self.where = where
        self.options = options
        self.write = write
        self.servers: dict[int, servers.Server] = {}
        self.results: list[StepResult] = []

    def run(self) -> int:
        """Run every step; 0 when all requests succeeded and all data stayed consistent."""
        database.recreate(self.where.db_config)
        self.write(f"Demo database {self.where.db_config['NAME']!r}; logs in {self.where.workdir}")
        try:
            for step in steps():
                self._run_step(step)
        except (DemoAborted, servers.ServerFailed) as exc:
            self.write(f"ABORTED: {exc}")
            return 1
        finally:
            for server in list(self.servers.values()):
                servers.stop(server)
        return self._summary()

    # --- one step --------------------------------------------------------------------

    def _run_step(self, step: Step) -> None:
        result = StepResult(step.release.number, step.release.summary)
        self.results.append(result)
        old = self.servers.get(step.previous) if step.previous else None
        serving = f"r{step.previous} serves" if step.previous else "nothing serves yet"
        self.write(f"\n... r{step.release.number}: deploy pre-step while {serving}")
        self._migrate_under_traffic(step, old, result)
        if not result.blocked:
            self._deploy(step, old, result)
            result.problems += _missing_grpc(result)
        for line in step_report(result):
            self.write(line)
        if result.blocked:
            raise DemoAborted(f"release r{step.release.number} cannot be deployed (see PROBLEM)")

    def _deploy(self, step: Step, old: servers.Server | None, result: StepResult) -> None:
        """Start the new release beside the old one and move the traffic over."""
        if step.release.number == 1:
            database.seed_people(self.where.db_config, self.options.rows)
        self.write(f"... r{step.release.number}: starting, then smoke test and traffic")
        new = self._start(step.release.number)
        self._phase(result, "smoke", [new.target], SMOKE_REQUESTS)
        if result.phases[-1].errors:
            result.problems.append(f"smoke test failed: r{new.release} gets no public traffic")
            result.blocked = True
        elif old is None:
            self._phase(result, "baseline", [new.target], self.options.requests)
        else:
            self._blue_green(result, old, new)

    def _blue_green(self, result: StepResult, old: servers.Server, new: servers.Server) -> None:
        for phase in BLUE_GREEN_PHASES:
            self._phase(result, phase.name, _targets(phase, old, new), self.options.requests)
        servers.stop(old)
        del self.servers[old.release]

    def _start(self, number: int) -> servers.Server:
        server = servers.start(
            number,
            self.where.env(number),
            self.where.manage_py.parent,
            self.where.workdir,
            threads=4,
        )
        self.servers[number] = server
        servers.wait_ready(server)
        return server

    def _phase(self, result: StepResult, name: str, targets: list[Target], requests: int) -> None:
        budget = Budget(requests, self.options.seconds, self.options.threads)
        traffic = Driver(targets, budget).run()
        self._record(result, name, traffic)

    def _record(self, result: StepResult, name: str, traffic: TrafficResult | None) -> None:
        consistency = database.check_consistency(self.where.db_config)
        result.phases.append(PhaseResult(name, traffic, consistency))
        if traffic and traffic.errors:
            result.problems.append(f"{name}: {traffic.errors} failed requests")
            result.problems += [f"  {message[:160]}" for message in traffic.sample_errors]
            result.problems += self._server_errors(traffic)
        if not consistency.ok:
            result.problems.append(f"{name}: inconsistent rows ({consistency})")

    def _server_errors(self, traffic: TrafficResult) -> list[str]:
        failing = {r.release for r in traffic.per_release if r.errors}
        return [
            f"  r{server.release} log: {line}"
            for server in self.servers.values()
            if server.release in failing
            for line in server.error_lines()
        ]

    # --- the pre-step, under the previous release's traffic -------------------------

    def _migrate_under_traffic(
        self, step: Step, old: servers.Server | None, result: StepResult
    ) -> None:
        with self._background_traffic(old) as traffic:
            if step.gated_drop:
                self._gated_drop(step, result)
            else:
                for app, migration in step.targets:
                    self._expect(result, self._prestep(step, app, migration), 0)
        self._record(result, "migrate", traffic.get("result"))

    @contextmanager
    def _background_traffic(self, old: servers.Server | None) -> Iterator[dict[str, Any]]:
        holder: dict[str, Any] = {}
        if old is None:
            yield holder
            return
        budget = Budget(MIGRATION_TRAFFIC_CAP, prestep.TIMEOUT_S, self.options.threads)
        driver = Driver([old.target], budget)
        thread = threading.Thread(target=lambda: holder.update(result=driver.run()))
        thread.start()
        try:
            yield holder
        finally:
            driver.stop.set()
            thread.join()

    def _prestep(self, step: Step, app: str, migration: str | None, label: str = "") -> PreStep:
        label = label or step.release.label
        self.write(f"    safemigrate {' '.join(filter(None, (app, migration)))} --release {label}")
        return prestep.run(
            self.where.manage_py,
            app,
            migration,
            label,
            self.where.env(step.release.number),
            self.where.workdir,
        )

    def _expect(self, result: StepResult, run: PreStep, expected: int) -> PreStep:
        result.presteps.append(run)
        if run.exit_code != expected:
            want = prestep.EXIT_MEANINGS[expected]
            tail = "\n".join(run.output.splitlines()[-12:])
            result.problems.append(f"{run.command}: {run.outcome}, expected {want}\n{tail}")
            result.blocked = result.blocked or run.exit_code != 0
        return run

    def _gated_drop(self, step: Step, result: StepResult) -> None:
        """The early drop is refused; ship extra deploy cycles until it is allowed."""
        app, migration = step.targets[0]
        previous = release(step.release.number - 1)
        run = self._expect(result, self._prestep(step, app, migration), 1)
        for n in range(1, self.options.max_extra_cycles + 1):
            if run.exit_code != 1:
                break
            self.write(f"    drop refused; shipping one more deploy cycle ({n})")
            label = extra_cycle_label(previous, n)
            self._expect(result, self._prestep(step, app, previous.migration, label), 0)
            run = self._prestep(step, app, migration)
            result.presteps.append(run)
        if run.exit_code != 0:
            result.problems.append(f"{run.command}: still {run.outcome} after extra cycles")
            result.blocked = True

    # --- the end ------------------------------------------------------------------

    def _summary(self) -> int:
        requests = sum(p.traffic.requests for s in self.results for p in s.phases if p.traffic)
        grpc = sum(
            grpc_requests(s, r, channel)
            for s in self.results
            for r in {s.release - 1, s.release} - {0}
            for channel in GRPC_CHANNELS
        )
        errors = sum(p.errors for s in self.results for p in s.phases)
        bad_rows = sum(
            p.consistency.differing + p.consistency.missing for s in self.results for p in s.phases
        )
        refused = any(p.exit_code == 1 for s in self.results for p in s.presteps)
        problems = [p for s in self.results for p in s.problems]
        verdict = "OK" if not problems and refused else "FAILED"
        self.write(
            f"\nLifecycle demo {verdict}: {len(self.results)} releases, {requests} requests, "
            f"{errors} failed, {bad_rows} inconsistent rows, early drop refused: "
            f"{'yes' if refused else 'NO'}; {grpc} of the requests over gRPC."
        )
        self._pages()
        return 0 if verdict == "OK" else 1

    def _pages(self) -> None:
        """Link the HTML report page of every pre-step (open them from the files)."""
        pages = [(p.command, p.page) for s in self.results for p in s.presteps if p.page]
        if pages:
            self.write("Pre-step report pages (steps, blocked sessions, backfill progress):")
        for command, page in pages:
            self.write(f"  {command}: {page.as_uri()}")


def _missing_grpc(result: StepResult) -> list[str]:
    """A problem for each API version the new release served no gRPC request through."""
    return [
        f"r{result.release} served no {channel} request"
        for channel in GRPC_CHANNELS
        if not grpc_requests(result, result.release, channel)
    ]


def _targets(phase: Phase, old: servers.Server, new: servers.Server) -> list[Target]:
    chosen = [old.target] if phase.to_old else []
    return chosen + ([new.target] if phase.to_new else [])
