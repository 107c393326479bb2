"""The report's timeline and the verdict (``--verify``), with real concurrent sessions."""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import pytest

from django_zero_downtime.runner import verify
from django_zero_downtime.runner.html_report import ran
from tests.browser.check import open_report
from tests.runner.conftest import (
    CREATE_ITEM,
    MigrationsPackage,
    applied,
    connect,
    fill,
    migration,
    safemigrate,
)
from tests.runner.traffic import Reader, Writer

LONG = bool(os.environ.get("ZDT_LONG"))
ROWS = 1_000_000 if LONG else 100_000
"""The acceptance run (ZDT_LONG=1, docs/performance.md) and its shortened form."""
BATCH = 5_000 if LONG else 1_000

RENAME = migration(
    ["0001_item"],
    f'        zdt.DualWriteRename("item", "n", "amount", batch_size={BATCH}, pause_s=0),',
    atomic=False,
).replace("from django.db", "import django_zero_downtime.operations as zdt\nfrom django.db")

# The first attempt holds ACCESS EXCLUSIVE for 1 s (a sequence is not rolled back, so the
# retry after the budget cancel does not sleep): a reader waits past a 300 ms budget.
HOLD_ONCE = migration(
    ["0001_item"],
    """        migrations.RunSQL("CREATE SEQUENCE IF NOT EXISTS rapp_once"),
        migrations.RunSQL(
            "LOCK TABLE rapp_item IN ACCESS EXCLUSIVE MODE; "
            "SELECT pg_sleep(CASE WHEN nextval('rapp_once') = 1 THEN 1.0 ELSE 0 END);"
        ),""",
    atomic=False,
)
SELECT_ONE = "SELECT n FROM rapp_item WHERE id = 1"


def _report(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def test_verdict_is_pure_and_names_each_reason() -> None:
    calm = {"rollback_rate": 0.0, "rollbacks": 0}
    assert verify.verdict(300, 120.0, calm, calm)["verified"]
    waited = verify.verdict(300, 420.0, calm, calm)
    assert not waited["verified"] and "waited 420 ms" in waited["reasons"][0]
    climbed = verify.verdict(300, 0.0, calm, {"rollback_rate": 0.2, "rollbacks": 12})
    assert not climbed["verified"] and "climbed from 0.0%" in climbed["reasons"][0]


@pytest.mark.django_db(transaction=True)
def test_verify_fails_when_a_live_session_waited_past_the_budget(
    rapp: MigrationsPackage, tmp_path: Path
) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    fill("rapp_item", 100)
    rapp.write(**{"0002_hold": HOLD_ONCE})
    report, page = tmp_path / "report.json", tmp_path / "report.html"
    with Reader(connect, SELECT_ONE):
        result = safemigrate(
            "rapp", "--max-blocking", "300", "--verify", "--report", str(report),
            "--report-html", str(page),
        )  # fmt: skip
    assert result.code == verify.EXIT_NOT_VERIFIED, result.out + result.err
    assert applied() == ["0001_item", "0002_hold"]  # applied on the retry, but it hurt
    data = _report(report)
    assert data["outcome"] == "not-verified" and not data["verification"]["verified"]
    assert "budget 300 ms" in data["verification"]["reasons"][0]
    assert "NOT verified: a live session waited" in result.out
    waits = [w["waited_ms"] for s in data["timeline"]["samples"] for w in s["blocked"]]
    assert max(waits) > 300
    hold = next(s for s in data["timeline"]["steps"] if s["key"] == "rapp.0002_hold:1")
    assert hold["lock"].startswith("ACCESS EXCLUSIVE") and hold["start_s"] < hold["end_s"]
    figures = next(s for s in data["steps"] if s["operation_index"] == 1)
    assert figures["retries"] == 1 and figures["budget_cancels"] == 1
    shown = open_report(page)
    assert shown["errors"] == [] and shown["bars"] == len(ran(data["timeline"])) == 2
    waits = [t for t in shown["traces"] if t[1].startswith("pid ")]
    assert waits and all(t[0] == "scatter" and t[2] > 0 for t in waits)
    assert shown["verdict"].startswith("NOT verified: a live session waited")


def test_a_run_that_did_not_finish_verifies_nothing() -> None:
    calm = verify.verdict(300, 0.0, {"rollback_rate": 0.0}, {"rollback_rate": 0.0, "rollbacks": 0})
    assert verify.after_outcome(calm, 0, "applied")["verified"]
    failed = verify.after_outcome(calm, 3, "error")
    assert not failed["verified"] and failed["reasons"] == [
        "the run did not finish (error, exit code 3)"
    ]
    assert verify.verdict_line(failed).startswith("  NOT verified: the run did not finish")


@pytest.mark.django_db(transaction=True)
def test_a_run_that_failed_does_not_claim_verification(
    rapp: MigrationsPackage, tmp_path: Path
) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    broken = migration(["0001_item"], '        migrations.RunSQL("SELECT 1 / 0"),')
    rapp.write(**{"0002_broken": broken})
    report = tmp_path / "report.json"
    result = safemigrate("rapp", "--verify", "--report", str(report))
    assert result.code == 3, result.out + result.err
    assert "  verified:" not in result.out
    assert "NOT verified: the run did not finish (error, exit code 3)" in result.out
    data = _report(report)
    assert data["outcome"] == "error" and not data["verification"]["verified"]


@pytest.mark.django_db(transaction=True)
def test_verify_passes_a_dual_write_rename_under_a_concurrent_writer(
    rapp: MigrationsPackage, tmp_path: Path
) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    fill("rapp_item", ROWS)
    rapp.write(**{"0002_rename": RENAME})
    report, page = tmp_path / "report.json", tmp_path / "report.html"
    rehearsed = json.loads(safemigrate("rapp", "--rehearse", "--format", "json").out)
    estimated = rehearsed["migrations"][0]["operations"][0]["estimate_s"]
    update = "UPDATE rapp_item SET n = n + 1 WHERE id = 1 + (random() * 999)::int"
    started = time.monotonic()
    with Reader(connect, SELECT_ONE), Writer(connect, update) as writer:
        result = safemigrate(
            "rapp", "--verify", "--report", str(report), "--report-html", str(page)
        )
    took = time.monotonic() - started
    assert result.code == 0, result.out + result.err
    assert not writer.errors and len(writer.latencies) > 10
    assert len(result.out.splitlines()) < 100, result.out  # piped: no line per batch
    assert "verified: no live session waited longer than 2000 ms" in result.out
    data = _report(report)
    timeline = data["timeline"]
    batches = timeline["batches"]
    assert len(batches) == math.ceil(ROWS / BATCH)
    assert batches[-1]["done"] == ROWS and {b["total"] for b in batches} == {ROWS}
    assert all(b["seconds"] > 0 and b["label"] == "rapp.Item: copy n → amount" for b in batches)
    assert [b["t"] for b in batches] == sorted(b["t"] for b in batches)
    step = next(s for s in timeline["steps"] if s["key"] == "rapp.0002_rename:0")
    assert step["start_s"] <= batches[0]["t"] <= batches[-1]["t"] <= step["end_s"]
    assert step["outcome"] == "applied"
    seconds = step["end_s"] - step["start_s"]
    # the rehearsal ran alone; the run shares the machine with a reader and a writer
    assert 0.5 <= seconds / estimated <= 3.0, f"rehearsal {estimated:.1f} s, run {seconds:.1f} s"
    times = [s["t"] for s in timeline["samples"]]
    assert len(times) >= 3 and max(b - a for a, b in itertools.pairwise(times)) < 1.5  # no gap
    _record(ROWS, took, seconds, estimated, len(batches), len(times), result.out)
    traffic = data["traffic"]
    assert traffic["before"]["seconds"] >= verify.BASELINE_S
    assert traffic["during"]["commits"] > 0 and data["verification"]["verified"]
    html = page.read_text()
    assert "<script src=" not in html and "cdn" not in html.lower().split("<body>")[0]
    shown = open_report(page)
    assert shown["errors"] == [] and shown["bars"] == len(ran(timeline)) >= 1
    assert ["scatter", "sessions waiting", len(timeline["samples"])] in shown["traces"]
    progress = [t for t in shown["traces"] if t[1] == "rapp.Item: copy n → amount"]
    assert progress == [["scatter", "rapp.Item: copy n → amount", len(batches)]]
    assert shown["verdict"].startswith("verified")


def _record(*figures: Any) -> None:
    """The acceptance run's figures for docs/performance.md (ZDT_FIGURES=path)."""
    target = os.environ.get("ZDT_FIGURES")
    if target:
        rows, took, seconds, estimated, batches, samples, out = figures
        Path(target).write_text(json.dumps({
            "rows": rows, "command_s": round(took, 1), "step_s": round(seconds, 1),
            "rehearsal_estimate_s": round(estimated, 1), "batches": batches,
            "samples": samples, "output_lines": len(out.splitlines()),
        }, indent=2))  # fmt: skip
