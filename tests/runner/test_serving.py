"""The drop gate and served cycles with real web processes (issue 15).

Each serving release is a real ``manage.py runserver`` (a web process by the guard's test)
with ``ZDT_RELEASE`` and a 0.3 s heartbeat, whose models are those of that release: the
old one maps ``rapp_item.note``, the new one does not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test.utils import override_settings

from django_zero_downtime import ledger
from tests.runner.conftest import (
    ADD_NOTE,
    CREATE_ITEM,
    REPO,
    MigrationsPackage,
    applied,
    database_url,
    safemigrate,
)
from tests.runner.servers import PgBouncer, free_port, have_pgbouncer
from tests.runner.test_processes import wait_for
from tests.runner.test_rules import DEPRECATE, DROP, column_type

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MODELS = """from django.db import models


class Item(models.Model):
    n = models.IntegerField(default=0)
{extra}
    class Meta:
        db_table = "rapp_item"
        managed = False
"""


class Releases:
    """Serving processes of releases, each with its own models of ``rapp_item``."""

    def __init__(self, root: Path, package: MigrationsPackage) -> None:
        self.root, self.package = root, package
        self.processes: dict[str, subprocess.Popen[str]] = {}

    def serve(self, release: str, maps_note: bool, url: str | None = None) -> subprocess.Popen[str]:
        app = f"rel_{uuid.uuid4().hex[:8]}"
        (self.root / app).mkdir()
        (self.root / app / "__init__.py").write_text("")
        extra = "    note = models.TextField(null=True)\n" if maps_note else ""
        (self.root / app / "models.py").write_text(MODELS.format(extra=extra))
        env = {
            **os.environ,
            "DATABASE_URL": url or database_url(),
            "DJANGO_SETTINGS_MODULE": "tests.runner.proc_settings",
            "ZDT_TEST_MIGRATIONS": self.package.name,
            "ZDT_TEST_EXTRA_APPS": app,
            "ZDT_TEST_HEARTBEAT_S": "0.3",
            "ZDT_RELEASE": release,
            "PYTHONPATH": os.pathsep.join(
                [str(REPO), str(self.root), str(self.package.path.parent)]
            ),
        }
        address = f"127.0.0.1:{free_port()}"
        command = [
            sys.executable,
            "-m",
            "django",
            "runserver",
            "--noreload",
            "--skip-checks",
            address,
        ]
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.processes[release] = process
        wait_for(reported(release), f"release {release!r} to report serving")
        return process

    def stop(self, release: str) -> None:
        process = self.processes.pop(release)
        process.terminate()
        process.communicate(timeout=30)

    def stop_all(self) -> None:
        for release in list(self.processes):
            self.stop(release)


def reported(release: str, within_s: float = 60.0) -> Callable[[Any], bool]:
    def seen(conn: Any) -> bool:
        row = conn.execute(
            f"SELECT count(*) FROM {ledger.SERVING} WHERE release = %s "
            "AND last_seen > now() - make_interval(secs => %s)",
            [release, within_s],
        ).fetchone()
        return bool(row and row[0])

    return seen


def gone(release: str, window_s: float) -> Callable[[Any], bool]:
    return lambda conn: not reported(release, window_s)(conn)


@pytest.fixture
def releases(tmp_path: Path, rapp: MigrationsPackage) -> Iterator[Releases]:
    serving = Releases(tmp_path, rapp)
    try:
        yield serving
    finally:
        serving.stop_all()


@override_settings(ZDT_DEPRECATION_CYCLES=0, ZDT_HEARTBEAT_S=None, ZDT_SERVING_WINDOW=2)
def test_a_drop_is_refused_while_a_release_that_maps_the_column_serves(
    rapp: MigrationsPackage, releases: Releases
) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM, "0002_note": ADD_NOTE, "0003_deprecate": DEPRECATE})
    assert safemigrate("rapp", "--release", "r1").code == 0
    releases.serve("r1", maps_note=True)  # the previous release, still serving
    releases.serve("r2", maps_note=False)  # the release that deprecated the column
    rapp.write(**{"0004_drop": DROP})
    result = safemigrate("rapp", "--release", "r3")
    assert result.code == 1, result.out + result.err
    assert (
        "Refusing to drop column rapp_item.note: release 'r1', whose models still map it, "
        "was seen serving" in result.err
    )
    assert "pid" in result.err and "ZDT_SERVING_WINDOW = 2 s" in result.err
    assert "0004_drop" not in applied() and column_type("rapp_item", "note") == "text"

    releases.stop("r1")
    wait_for(gone("r1", 2.0), "r1's last report to leave the serving window")
    result = safemigrate("rapp", "--release", "r3")
    assert result.code == 0, result.out + result.err  # r2 serves on: its models do not map it
    assert column_type("rapp_item", "note") == ""


def test_served_releases_are_the_cycles(rapp: MigrationsPackage, releases: Releases) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp", "--release", "r1").code == 0  # label counting: nobody reports
    releases.serve("r1", maps_note=False)
    result = safemigrate("rapp", "--release", "r2")
    assert "deploy cycle 1 (recorded, not counted: not seen serving yet" in result.out
    releases.serve("r2", maps_note=False)
    releases.stop("r1")
    result = safemigrate("rapp", "--release", "r3")
    assert "Release 'r2' was seen serving: a deploy cycle." in result.out
    assert ledger.current_cycle("default") == 2


@pytest.mark.skipif(not have_pgbouncer(), reason="pgbouncer is not installed")
def test_the_heartbeat_works_through_a_transaction_pool(
    rapp: MigrationsPackage, releases: Releases
) -> None:
    """Web processes usually sit behind a transaction pooler: one transaction per beat,
    SET LOCAL timeouts, no session state."""
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    with PgBouncer("127.0.0.1", 5432, "transaction") as bouncer:
        url = bouncer.url(database_url().rsplit("/", 1)[1])
        releases.serve("t1", maps_note=True, url=url)  # waits for its report
        wait_for(beats_again("t1"), "a second beat")
        releases.stop("t1")
    result = safemigrate("rapp", "--release", "t2")
    assert "Release 't1' was seen serving: a deploy cycle." in result.out


def beats_again(release: str) -> Callable[[Any], bool]:
    def moved(conn: Any) -> bool:
        row = conn.execute(
            f"SELECT bool_or(last_seen > first_seen) FROM {ledger.SERVING} WHERE release = %s",
            [release],
        ).fetchone()
        return bool(row and row[0])

    return moved
