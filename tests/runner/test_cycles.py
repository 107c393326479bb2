"""Deploy cycles (issue 15): labels typed five ways, reruns and parallel jobs within the
interval, releases seen serving, a ledger still at 0002, a fresh database; real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import override_settings

from django_zero_downtime import ledger
from django_zero_downtime.models import DeployCycle
from tests.conftest import manage
from tests.runner.conftest import (
    CREATE_ITEM,
    MigrationsPackage,
    safemigrate,
    start_safemigrate,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def items(rapp: MigrationsPackage) -> MigrationsPackage:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    return rapp


def labels() -> list[tuple[str, str | None]]:
    return list(DeployCycle.objects.order_by("id").values_list("release", "not_counted"))


def test_a_label_typed_five_ways_is_one_deploy_cycle(items: MigrationsPackage) -> None:
    for typed in ["r9", "R9", "r9 ", "r9\t", " R9\n"]:
        result = safemigrate("rapp", "--release", typed)
        assert result.code == 0, result.err
    assert labels() == [("r9", None)]
    assert ledger.current_cycle("default") == 1
    assert "Release 'r9': deploy cycle 1 (already recorded)." in result.out


def test_bad_labels_are_refused_before_anything_runs(items: MigrationsPackage) -> None:
    for label in ["x" * 300, "r 9", "r9;drop table"]:
        run = start_safemigrate(items, "rapp", "--release", label)
        out, err = run.communicate(timeout=60)
        assert run.returncode == 3, out + err
        assert "Traceback" not in err and "varchar" not in err
        assert "--release: release label" in err and "Nothing was applied" in err
    assert (
        "300 characters long"
        in start_safemigrate(items, "rapp", "--release", "y" * 300).communicate(timeout=60)[1]
    )
    assert labels() == []


@override_settings(ZDT_MIN_CYCLE_INTERVAL=60)
def test_reruns_within_a_minute_do_not_advance_the_counter(items: MigrationsPackage) -> None:
    for label in ["a-1", "a-2", "a-3"]:
        result = safemigrate("rapp", "--release", label)
        assert result.code == 0, result.err
    assert ledger.current_cycle("default") == 1
    assert "which is weaker" in result.out  # no web process reports: label counting
    assert "deploy cycle 1 (recorded, not counted: recorded 0 s after deploy cycle 'a-1'" in (
        result.out
    )
    _pass_time(61)  # the interval passes: the next release is a cycle again
    assert safemigrate("rapp", "--release", "a-4").code == 0
    assert ledger.current_cycle("default") == 2
    assert [label for label, reason in labels() if reason is None] == ["a-1", "a-4"]


def _pass_time(seconds: int) -> None:
    """Move every recorded time back (rather than sleep through the interval)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ledger.CYCLES} SET started_at = started_at - make_interval(secs => %s), "
            "served_at = served_at - make_interval(secs => %s)",
            [seconds, seconds],
        )
        cursor.execute(
            f"UPDATE {ledger.SERVING} SET first_seen = first_seen - make_interval(secs => %s), "
            "last_seen = last_seen - make_interval(secs => %s)",
            [seconds, seconds],
        )


def test_parallel_ci_jobs_with_job_id_labels_are_one_cycle(items: MigrationsPackage) -> None:
    env = {"ZDT_TEST_MIN_CYCLE_INTERVAL": "60"}
    jobs = [start_safemigrate(items, "rapp", "--release", f"job-{n}", **env) for n in (1, 2, 3)]
    results = [(job.wait(timeout=60), *job.communicate()) for job in jobs]
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert ledger.current_cycle("default") == 1
    assert sorted(reason is None for _, reason in labels()) == [False, False, True]


def test_parallel_jobs_while_web_processes_report_count_the_served_release_once(
    items: MigrationsPackage,
) -> None:
    beat("r1", 101)
    jobs = [start_safemigrate(items, "rapp", "--release", f"job-{n}") for n in range(5)]
    results = [(job.wait(timeout=60), *job.communicate()) for job in jobs]
    assert [code for code, _, _ in results] == [0] * 5, results
    assert sum("Release 'r1' was seen serving" in out for _, out, _ in results) == 1
    assert ledger.current_cycle("default") == 1  # r1; no job label served
    assert all("which is weaker" not in out for _, out, _ in results)


def beat(release: str, pid: int, maps: str = "{}") -> None:
    """What a web process's heartbeat writes (guard/heartbeat.py), for a made-up pid."""
    ledger.report_serving("default", release, "web-1", pid, maps)


def test_a_cycle_is_a_release_seen_serving(items: MigrationsPackage) -> None:
    beat("r1", 101)
    result = safemigrate("rapp", "--release", "r2")
    assert result.code == 0, result.err
    assert "Release 'r1' was seen serving: a deploy cycle." in result.out
    assert "Release 'r2': deploy cycle 1 (recorded, not counted: not seen serving yet" in (
        result.out
    )
    assert "which is weaker" not in result.out
    assert safemigrate("rapp", "--release", "r2").code == 0  # a rerun: still one cycle
    assert safemigrate("rapp", "--release", "r3").code == 0  # a label that never served
    assert ledger.current_cycle("default") == 1
    beat("r2", 102)
    result = safemigrate("rapp", "--release", "r4")
    assert "Release 'r2' was seen serving: a deploy cycle." in result.out
    assert ledger.current_cycle("default") == 2
    assert ("r3", ledger.releases.NOT_SERVED_YET) in labels()


@override_settings(ZDT_MIN_CYCLE_INTERVAL=60)
def test_releases_served_seconds_apart_are_one_cycle(items: MigrationsPackage) -> None:
    for pid, release in enumerate(["a-1", "a-2", "a-3"]):
        beat(release, pid)
    assert safemigrate("rapp", "--release", "a-4").code == 0
    assert ledger.current_cycle("default") == 1
    not_counted = dict(labels())
    assert not_counted["a-1"] is None
    assert "served, but last seen 0 s after deploy cycle 'a-1'" in (not_counted["a-2"] or "")
    _pass_time(120)
    beat("a-3", 2)  # a-3 is still serving two minutes later: now it is a cycle
    assert safemigrate("rapp", "--release", "a-4").code == 0
    assert ledger.current_cycle("default") == 2
    assert dict(labels())["a-3"] is None and dict(labels())["a-2"] is not None


@pytest.fixture
def ledger_at_0002() -> Iterator[None]:
    """The ledger as an older version left it: no served-release columns or table."""
    executor = MigrationExecutor(connection)
    executor.migrate([("django_zero_downtime", "0002_backfill_control")])
    try:
        yield
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes("django_zero_downtime"))


def test_a_run_on_a_ledger_at_0002_records_its_release_and_brings_it_up_to_date(
    items: MigrationsPackage, ledger_at_0002: None
) -> None:
    assert not ledger.counts_served(connection.cursor())
    assert ledger.current_cycle("default") == 0
    result = safemigrate("rapp", "--release", "R1")
    assert result.code == 0, result.err
    assert "Applying django_zero_downtime.0003_served_releases" in result.out
    assert "Release 'r1': deploy cycle 1 (new deploy cycle)." in result.out
    assert ledger.counts_served(connection.cursor())
    assert labels() == [("r1", None)]


def test_a_fresh_database_records_its_release_when_the_plan_lacks_the_ledger(
    scratch_database_url: str,
) -> None:
    result = manage(scratch_database_url, "safemigrate", "contenttypes", "--release", "r1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Applying django_zero_downtime.0001_initial" in result.stdout
    assert "Release 'r1': deploy cycle 1 (new deploy cycle)." in result.stdout
    assert "deploy cycle None" not in result.stdout


def test_a_label_an_older_version_stored_as_typed_is_the_same_release(
    items: MigrationsPackage,
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {ledger.CYCLES} (release) VALUES ('R9\t')")
    result = safemigrate("rapp", "--release", "r9")
    assert "Release 'r9': deploy cycle 1 (already recorded)." in result.out
    assert ledger.current_cycle("default") == 1
