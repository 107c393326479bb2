"""``safemigrate_report``: a stored JSON report rendered as a page; bad input said clearly."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.browser.check import open_report

REPORT = {
    "format": 1,
    "outcome": "applied",
    "exit_code": 0,
    "database": "default",
    "release": "r2",
    "settings": {"budget_ms": 2000},
    "steps": [
        {"app": "shop", "migration": "0002_x", "operation_index": 0, "retries": 1},
        {"app": "shop", "migration": "0002_x", "operation_index": 1, "retries": 0},
    ],
    "timeline": {
        "steps": [
            {"key": "shop.0002_x:0", "description": "Add field", "lock": "ACCESS EXCLUSIVE",
             "start_s": 0.0, "end_s": 0.4, "attempts": 2, "outcome": "applied"},
            {"key": "shop.0002_x:1", "description": "Copy <b>", "lock": "ROW EXCLUSIVE",
             "start_s": 0.4, "end_s": 2.0, "attempts": 1, "outcome": "applied"},
            {"key": "shop.0003_y:0", "description": "Never ran", "lock": "NONE",
             "start_s": None, "end_s": None, "attempts": 0, "outcome": "not run"},
        ],
        "samples": [{"t": 0.1, "step": "shop.0002_x:0",
                     "blocked": [{"pid": 7, "waited_ms": 80.0, "query": "SELECT"}]}],
        "batches": [
            {"t": 1.0, "key": "k", "label": "shop.Order: copy a → b", "table": "shop_order",
             "rows": 500, "done": 500, "total": 1000, "seconds": 0.2, "pause_s": 0},
            {"t": 1.9, "key": "k", "label": "shop.Order: copy a → b", "table": "shop_order",
             "rows": 500, "done": 1000, "total": 1000, "seconds": 0.2, "pause_s": 0},
        ],
    },
    "verification": {"verified": True, "budget_ms": 2000, "longest_wait_ms": 80.0,
                     "rollback_rate_before": 0.0, "rollback_rate_during": 0.0, "reasons": []},
}  # fmt: skip


def test_a_stored_report_renders_as_a_page_with_one_bar_per_step_that_ran(
    tmp_path: Path,
) -> None:
    source, page = tmp_path / "r.json", tmp_path / "r.html"
    source.write_text(json.dumps(REPORT))
    out = StringIO()
    call_command("safemigrate_report", str(source), "--html", str(page), stdout=out)
    assert f"HTML report written to {page}." in out.getvalue()
    html = page.read_text()
    assert "Copy &lt;b&gt;" in html and "<b>" not in html.split("<body>")[1].split("<div")[0]
    assert "2,500" in html  # rows/s of the backfill: 1000 rows in 0.4 s of batches
    shown = open_report(page)
    assert shown["errors"] == [] and shown["bars"] == 2
    assert ["scatter", "pid 7", 1] in shown["traces"]
    assert ["scatter", "sessions waiting", 1] in shown["traces"]
    assert ["scatter", "shop.Order: copy a → b", 2] in shown["traces"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "Cannot read the report"), ('{"format": 9}', "is not a safemigrate report")],
)
def test_a_file_that_is_not_a_report_is_a_clear_error(
    tmp_path: Path, content: str, message: str
) -> None:
    source = tmp_path / "r.json"
    source.write_text(content)
    with pytest.raises(CommandError, match=message) as caught:
        call_command("safemigrate_report", str(source), "--html", str(tmp_path / "r.html"))
    assert caught.value.returncode == 3
