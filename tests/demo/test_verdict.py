"""The demo's verdict: non-zero on any failed request, bad row or missing refusal (pure)."""

from __future__ import annotations

from pathlib import Path

from example_project.lifecycle.database import Consistency
from example_project.lifecycle.plan import DemoOptions
from example_project.lifecycle.prestep import PreStep
from example_project.lifecycle.runner import Environment, LifecycleDemo
from example_project.lifecycle.stats import ReleaseTraffic, TrafficResult
from example_project.lifecycle.table import PhaseResult, StepResult, step_report

GOOD_ROWS = Consistency(("last_name", "surname"), 10, 0, 0)


def _traffic(failed: int = 0) -> TrafficResult:
    return TrafficResult((ReleaseTraffic(3, 100, failed, 0, 2.0, 9.0),), (), 1.0)


def _prestep(code: int) -> PreStep:
    return PreStep("people", "0003_drop_last_name", "r4", code, 1.0, "Refusing to drop", None)


def _verdict(step: StepResult) -> tuple[int, str]:
    lines: list[str] = []
    where = Environment(Path("manage.py"), {}, {}, Path("."))
    demo = LifecycleDemo(where, DemoOptions(), lines.append)
    demo.results.append(step)
    return demo._summary(), lines[-1]


def _step(rows: Consistency = GOOD_ROWS, failed: int = 0, refused: bool = True) -> StepResult:
    step = StepResult(4, "surname only")
    step.presteps = [_prestep(1)] if refused else []
    step.presteps.append(_prestep(0))
    step.phases = [PhaseResult("50/50", _traffic(failed), rows)]
    if failed or not rows.ok:
        step.problems.append("something failed")
    return step


def test_clean_run_with_the_refusal_is_ok() -> None:
    code, line = _verdict(_step())
    assert code == 0
    assert "Lifecycle demo OK" in line
    assert "100 requests, 0 failed, 0 inconsistent rows, early drop refused: yes" in line


def test_a_failed_request_fails_the_demo() -> None:
    code, line = _verdict(_step(failed=1))
    assert (code, "FAILED" in line, "1 failed" in line) == (1, True, True)


def test_an_inconsistent_row_fails_the_demo() -> None:
    code, line = _verdict(_step(rows=Consistency(("last_name", "surname"), 10, 1, 0)))
    assert (code, "1 inconsistent rows" in line) == (1, True)


def test_a_drop_that_was_never_refused_fails_the_demo() -> None:
    code, line = _verdict(_step(refused=False))
    assert (code, "early drop refused: NO" in line) == (1, True)


def test_the_step_table_shows_phase_split_latency_and_consistency() -> None:
    step = _step()
    step.presteps[0] = PreStep("people", "0003", "r4", 1, 2.5, "x\nRefusing to drop it", None)
    text = "\n".join(step_report(step))
    assert "safemigrate people 0003 --release r4: refused by a rule in 2.50 s" in text
    assert "| Refusing to drop it" in text
    assert "r3 100%" in text and "100 req, 2.0/9.0" in text
    assert "yes: 10 rows, last_name+surname" in text
