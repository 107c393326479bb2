"""The pre-step's command line and the defensive reading of safemigrate's report."""

from __future__ import annotations

from pathlib import Path

from example_project.lifecycle.prestep import safemigrate_command, summarize_report, totals


def test_command_names_target_release_and_report() -> None:
    command = safemigrate_command(Path("/p/manage.py"), "people", "0002_x", "r2", Path("/r.json"))
    assert command[1:] == [
        "/p/manage.py",
        "safemigrate",
        "people",
        "0002_x",
        "--release",
        "r2",
        "--report",
        "/r.json",
        "--no-input",
    ]
    assert "0002_x" not in safemigrate_command(Path("m"), "people", None, "r1", Path("r"))
    page = safemigrate_command(Path("m"), "people", None, "r1", Path("r.json"), Path("r.html"))
    assert page[-2:] == ["--report-html", "r.html"]


def test_missing_or_empty_report_says_so() -> None:
    assert summarize_report(None) == ["(no report file)"]
    assert summarize_report({}) == ["(no report file)"]


def test_unknown_shape_lists_its_keys_instead_of_crashing() -> None:
    (line,) = summarize_report({"release": "r2", "weird": {"x": 1}})
    assert "release" in line and "weird" in line


def test_operations_with_durations_retries_and_blocked_sessions() -> None:
    report = {
        "duration_ms": 1500,
        "migrations": [
            {
                "name": "people.0002",
                "operations": [
                    {
                        "describe": "Dual-write rename",
                        "duration_ms": 1200,
                        "retries": 2,
                        "lock_waits": [{"ms": 500}, {"ms": 500}],
                        "blocked_sessions": 3,
                        "max_blocked_ms": 480,
                    },
                    {"operation": "Backfill", "duration_s": 0.25, "retries": "n/a"},
                ],
            }
        ],
    }
    lines = summarize_report(report)
    assert lines[0] == "run: 1.50 s"
    assert lines[1] == (
        "Dual-write rename: 1.20 s, lock timeouts 2, retries 2, blocked sessions 3, "
        "longest block 480 ms"
    )
    assert lines[2] == "Backfill: 0.25 s"
    assert totals(report) == {"retries": 2.0, "lock timeouts": 2.0, "blocked sessions": 3.0}


def test_the_runners_report_format() -> None:
    step = {
        "operation": "DualWriteRename",
        "description": "Rename field last_name on person to surname (dual-write phase)",
        "duration_s": 0.127,
        "lock_timeouts": 1,
        "lock_wait_s": 0.5,
        "retries": 1,
        "blocked_sessions": 0,
        "longest_block_ms": 0.0,
        "budget_cancels": 0,
    }
    report = {"cycle": 2, "applied": ["people.0002_dual_write_surname"], "steps": [step]}
    assert summarize_report(report) == [
        "run: deploy cycle 2, applied people.0002_dual_write_surname",
        "Rename field last_name on person to surname (dual-write phase): 0.13 s, "
        "lock timeouts 1, retries 1, blocked sessions 0, lock wait 0.5 s",
    ]
    nothing = summarize_report({"cycle": 4, "applied": [], "steps": []})
    assert nothing == ["run: deploy cycle 4, nothing applied"]


def test_booleans_are_not_counted_as_numbers() -> None:
    assert summarize_report({"operations": [{"name": "x", "retries": True}]}) == ["x: no figures"]
