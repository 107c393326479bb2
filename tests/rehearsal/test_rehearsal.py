"""Rehearsal on a table of 200k rows: rewrite, scan and no-rewrite are told apart, time and
locks are reported, and the schema is exactly as before (catalog snapshot with relfilenodes)."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from django_zero_downtime.rehearsal.run import MigrationReport, rehearse
from django_zero_downtime.testing import Migrator, schema_snapshot

ROWS = 200_000
APP = "rehearsalapp"


@pytest.fixture(scope="module")
def big_table(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    """rehearsalapp at 0001 with 200k rows, committed, once for the module."""
    override = override_settings(
        INSTALLED_APPS=[*settings.INSTALLED_APPS, "tests.rehearsal.rehearsalapp"]
    )
    override.enable()
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        Migrator().migrate({APP: "0001"})
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO rehearsalapp_big (n, name, note) "
                "SELECT g, 'name ' || g, 'note' FROM generate_series(1, %s) g",
                [ROWS],
            )
            cursor.execute("ANALYZE rehearsalapp_big")
        yield
        Migrator().migrate({APP: None})
    override.disable()


@pytest.fixture(scope="module")
def reports(
    big_table: None, django_db_blocker: pytest.FixtureRequest
) -> dict[str, MigrationReport]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        before = schema_snapshot(relfilenodes=True)
        result = {r.name: r for r in rehearse("default")}
        assert schema_snapshot(relfilenodes=True) == before
    return result


def _only_statement(report: MigrationReport, must: str) -> object:
    [statement] = [s for op in report.operations for s in op.statements if must in s.sql]
    return statement


def test_int_to_bigint_is_a_rewrite_under_access_exclusive(
    reports: dict[str, MigrationReport],
) -> None:
    report = reports["0002_n_bigint"]
    statement = _only_statement(report, "TYPE bigint")
    assert "rehearsalapp_big" in statement.rewritten  # type: ignore[attr-defined]
    assert "rewrite" in statement.kinds()  # type: ignore[attr-defined]
    assert ("rehearsalapp_big", "AccessExclusiveLock") in statement.locks  # type: ignore[attr-defined]
    assert [(f.rule, f.severity) for f in report.findings] == [("ZDT451", "error")]


def test_set_not_null_is_a_scan_without_rewrite(reports: dict[str, MigrationReport]) -> None:
    report = reports["0003_note_not_null"]
    statement = _only_statement(report, "SET NOT NULL")
    assert statement.rewritten == []  # type: ignore[attr-defined]
    assert statement.kinds() == {"scan"}  # type: ignore[attr-defined]
    assert any("verifying table" in n for n in statement.notices)  # type: ignore[attr-defined]
    assert report.findings == []


def test_widened_varchar_is_neither_rewritten_nor_scanned(
    reports: dict[str, MigrationReport],
) -> None:
    report = reports["0004_widen_name"]
    statement = _only_statement(report, "varchar(200)")
    assert statement.rewritten == [] and statement.kinds() == set()  # type: ignore[attr-defined]
    assert report.findings == []


def test_concurrent_index_is_reported_with_an_estimate(reports: dict[str, MigrationReport]) -> None:
    [op] = reports["0005_index_name"].operations
    assert op.statements == []
    assert "cannot run in a transaction" in op.not_rehearsed
    assert "builds the index concurrently on rehearsalapp_big (200,000 rows" in op.not_rehearsed
    assert "built plainly here in" in op.not_rehearsed and op.estimate_s is not None
    assert f"estimated ~{op.estimate_s:.1f} s concurrently" in op.not_rehearsed


def test_what_the_zdt110_hint_recommends_is_estimated_not_failed(
    reports: dict[str, MigrationReport],
) -> None:
    report = reports["0006_unique_name_as_hinted"]
    wrapped, concurrent, attach = report.operations
    built = "concurrently on rehearsalapp_big (200,000 rows"
    assert built in wrapped.not_rehearsed  # in SeparateDatabaseAndState
    assert built in concurrent.not_rehearsed  # RunSQL ... ON ONLY
    assert "failed after operation 1, which could not be rehearsed" in attach.not_rehearsed
    assert report.findings == []


def test_one_approval_covers_the_rehearsal_of_the_same_danger() -> None:
    from django.db import migrations, models

    from django_zero_downtime.rehearsal.run import _finding

    class Migration(migrations.Migration):
        zero_downtime = {"ZDT105": "the table has 300 rows"}
        operations = [migrations.AlterField("big", "n", models.BigIntegerField())]

    [approved] = _finding("ZDT451", Migration("0002_n", APP), 0, "rewrote rehearsalapp_big.")
    assert approved.severity == "warning"
    assert "the table has 300 rows (ZDT105)" in approved.message
    Migration.zero_downtime = {"ZDT101": "unrelated"}
    [refused] = _finding("ZDT451", Migration("0002_n", APP), 0, "rewrote.")
    assert refused.severity == "error"


@pytest.mark.django_db
@override_settings(ZDT_REHEARSAL_BUDGET=0.0)
def test_over_budget_is_an_error(big_table: None) -> None:
    [report] = rehearse("default", [(APP, "0004_widen_name")])[2:]
    assert [f.rule for f in report.findings] == ["ZDT450"]


@pytest.mark.django_db
def test_failure_on_real_data_is_reported_and_rolled_back(big_table: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE rehearsalapp_big SET note = NULL WHERE id = 1")
        cursor.execute("ALTER TABLE rehearsalapp_big ADD CONSTRAINT no_empty CHECK (note <> '')")
    before = schema_snapshot()
    reports = rehearse("default")
    assert schema_snapshot() == before
    assert [r.name for r in reports] == ["0002_n_bigint", "0003_note_not_null"]
    [failure] = reports[-1].findings
    assert failure.rule == "ZDT452" and "no_empty" in failure.message


@pytest.mark.django_db
def test_command_prints_the_report_and_exits_1(big_table: None) -> None:
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("safemigrate", "--rehearse", stdout=out)
    text = out.getvalue()
    assert exit_info.value.code == 1
    assert "rehearsalapp.0002_n_bigint" in text
    assert 'server: rewriting table "rehearsalapp_big"' in text
    assert "ERROR ZDT451" in text


@pytest.mark.django_db
def test_json_output_has_every_statement(big_table: None) -> None:
    import json

    out = StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "safemigrate", APP, "0002", "--rehearse", "--rehearse-format", "json", stdout=out
        )
    document = json.loads(out.getvalue())
    assert (document["version"], document["command"]) == (1, "rehearse")
    [report] = document["migrations"]
    [statement] = report["operations"][0]["statements"]
    assert statement["rewritten"] == ["rehearsalapp_big", "rehearsalapp_big_pkey"]
    [finding] = document["findings"]
    assert finding["rule"] == "ZDT451"
    assert finding["file"] == "tests/rehearsal/rehearsalapp/migrations/0002_n_bigint.py"
    assert finding["line"] == _line_of_first_operation(finding["file"])
    assert document["summary"] == {"errors": 1, "warnings": 0, "migrations": 1, "notes": []}


@pytest.mark.django_db
def test_github_annotations_have_relative_paths_and_lines(big_table: None) -> None:
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("safemigrate", APP, "0002", "--rehearse", "--format", "github", stdout=out)
    path = "tests/rehearsal/rehearsalapp/migrations/0002_n_bigint.py"
    line = _line_of_first_operation(path)
    assert out.getvalue().startswith(f"::error file={path},line={line},title=ZDT451 ")


def _line_of_first_operation(path: str) -> int:
    lines = Path(settings.BASE_DIR, path).read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if "migrations.AlterField" in text)


def test_operations_that_commit_on_their_own_are_not_rehearsed() -> None:
    from django.db import migrations, models

    from django_zero_downtime.operations import DualWriteRename
    from django_zero_downtime.rehearsal.run import non_transactional

    assert non_transactional(DualWriteRename("big", "name", "title"))
    assert non_transactional(migrations.RunSQL("CREATE INDEX CONCURRENTLY i ON t (c)"))
    assert not non_transactional(migrations.AddField("big", "x", models.IntegerField(null=True)))
