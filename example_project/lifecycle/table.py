"""The per-step tables the demo prints (pure formatting)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from example_project.lifecycle.database import Consistency
from example_project.lifecycle.prestep import PreStep, summarize_report
from example_project.lifecycle.stats import ReleaseTraffic, TrafficResult


@dataclass(frozen=True)
class PhaseResult:
    name: str
    traffic: TrafficResult | None
    consistency: Consistency

    @property
    def errors(self) -> int:
        return self.traffic.errors if self.traffic else 0


@dataclass
class StepResult:
    release: int
    summary: str
    presteps: list[PreStep] = field(default_factory=list)
    phases: list[PhaseResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    blocked: bool = False
    """A pre-step left the schema short of this release's: the release cannot be deployed."""


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _latency(traffic: TrafficResult | None, release: int) -> str:
    match = [r for r in (traffic.per_release if traffic else ()) if r.release == release]
    if not match or not match[0].requests:
        return "-"
    return f"{match[0].requests} req, {_ms(match[0].p50_ms)}/{_ms(match[0].p99_ms)}"


def _split(traffic: TrafficResult | None) -> str:
    if not traffic or not traffic.requests:
        return "none"
    return " + ".join(f"r{r.release} {_share(r, traffic)}%" for r in traffic.per_release)


def _share(part: ReleaseTraffic, traffic: TrafficResult) -> int:
    return round(100 * part.requests / traffic.requests)


def _consistency(c: Consistency) -> str:
    columns = "+".join(c.columns) or "no table"
    verdict = "yes" if c.ok else f"NO ({c.differing} differ, {c.missing} missing)"
    return f"{verdict}: {c.rows} rows, {columns}"


def phase_rows(step: StepResult, releases: Sequence[int]) -> list[list[str]]:
    header = ["phase", "traffic", "requests", "errors"]
    header += [f"r{r} requests, p50/p99 ms" for r in releases] + ["consistent"]
    rows = [header]
    for phase in step.phases:
        traffic = phase.traffic
        rows.append(
            [phase.name, _split(traffic), str(traffic.requests if traffic else 0)]
            + [str(phase.errors)]
            + [_latency(traffic, r) for r in releases]
            + [_consistency(phase.consistency)]
        )
    return rows


GRPC_CHANNELS = ("grpc v1", "grpc v2")


def _channel_cell(traffic: TrafficResult | None, release: int, channel: str) -> str:
    served = traffic.channel(release, channel) if traffic else None
    if served is None or not served.requests:
        return "-"
    p50_p99 = f"{_ms(served.p50_ms)}/{_ms(served.p99_ms)}"
    return f"{served.requests} req, {served.errors} err, {p50_p99}"


def grpc_rows(step: StepResult, releases: Sequence[int]) -> list[list[str]]:
    """gRPC requests, errors and p50/p99 ms per phase, per release and API version."""
    header = ["phase"] + [f"r{r} {channel}" for r in releases for channel in GRPC_CHANNELS]
    rows = [header]
    for phase in step.phases:
        cells = [_channel_cell(phase.traffic, r, c) for r in releases for c in GRPC_CHANNELS]
        rows.append([phase.name, *cells])
    return rows


def grpc_requests(step: StepResult, release: int, channel: str) -> int:
    """How many ``channel`` requests ``release`` served over the whole step."""
    served = [p.traffic.channel(release, channel) for p in step.phases if p.traffic]
    return sum(s.requests for s in served if s is not None)


def render(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return [line.rstrip() for line in lines]


def prestep_lines(prestep: PreStep) -> list[str]:
    lines = [f"{prestep.command}: {prestep.outcome} in {prestep.seconds:.2f} s"]
    lines += [f"    {line}" for line in summarize_report(prestep.report)]
    if prestep.exit_code == 1:
        lines += [f"    | {line}" for line in prestep.output.splitlines()[-4:]]
    return lines


def step_report(step: StepResult) -> list[str]:
    title = f"Release r{step.release}: {step.summary}"
    lines = [title, "=" * len(title), "Deploy pre-step:"]
    for prestep in step.presteps:
        lines += ["  " + line for line in prestep_lines(prestep)]
    releases = sorted({step.release - 1, step.release} - {0})
    lines += ["", *render(phase_rows(step, releases))]
    lines += ["", "gRPC (requests, errors, p50/p99 ms):", *render(grpc_rows(step, releases))]
    lines += [f"PROBLEM: {problem}" for problem in step.problems]
    return lines
