"""The server fails under a running ``safemigrate``: a crash (SIGKILL of the postmaster)
with a fast restart, and an outage (an immediate stop, started again after a while), each
mid-migration (a concurrent index build) and mid-backfill. The run ends with a clear
message and exit 3 (no traceback, no second error hiding the first); the rerun after the
server is back completes, with every row intact and no INVALID index.

A throwaway cluster (tests/runner/servers.py), never the shared server. The outage lasts
3 s by default and 15 s with ``ZDT_LONG=1``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.runner.conftest import MigrationsPackage, migration, start_safemigrate
from tests.runner.servers import Cluster
from tests.runner.test_processes import CREATE_ITEM_AND_SLOW_FUNCTION, SLOW_INDEX

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

OUTAGE_S = 15.0 if os.environ.get("ZDT_LONG") == "1" else 3.0
ROWS = 300  # 300 x 5 ms: a concurrent build of about 1.5 s
BACKFILL = migration(
    ["0002_slow_index"],
    '        migrations.AddField("item", "copy", models.IntegerField(null=True)),\n'
    '        zdt.BatchedBackfill("item", {"copy": F("n")}, batch_size=10, pause_s=0.2),',
    atomic=False,
).replace(
    "\n\n\n",
    "\nfrom django.db.models import F\nimport django_zero_downtime.operations as zdt\n\n\n",
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster() as server:
        yield server


def building_index(conn: Any) -> bool:
    return bool(conn.execute(
        "SELECT 1 FROM pg_stat_progress_create_index WHERE phase LIKE 'building index%%'"
    ).fetchone())  # fmt: skip


def backfilling(conn: Any) -> bool:
    exists = conn.execute("SELECT to_regclass('rapp_item') IS NOT NULL AND EXISTS "
                          "(SELECT FROM pg_attribute WHERE attrelid = 'rapp_item'::regclass "
                          "AND attname = 'copy')").fetchone()  # fmt: skip
    if not (exists and exists[0]):
        return False
    row = conn.execute("SELECT count(copy) FROM rapp_item").fetchone()
    return bool(row and 0 < row[0] < ROWS // 2)  # well before its end


def wait_for(url: str, condition: Callable[[Any], bool], what: str) -> None:
    """Poll the cluster until ``condition`` (a state of the run we cannot subscribe to)."""
    with psycopg.connect(url, autocommit=True) as conn:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if condition(conn):
                return
            time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def crash(server: Cluster) -> None:
    postmaster = Path(f"/proc/{(server.data / 'postmaster.pid').read_text().split()[0]}")
    server.crash()
    end = time.monotonic() + 10
    while postmaster.exists() and time.monotonic() < end:  # until the zombie is reaped: a
        time.sleep(0.05)  # new postmaster refuses to start while its PID seems alive
    server.start()  # fast restart: crash recovery, then it answers again


def outage(server: Cluster) -> None:
    server.stop("immediate")
    time.sleep(OUTAGE_S)  # the outage itself: the server is down for this long
    server.start()


def prepare(rapp: MigrationsPackage, server: Cluster, name: str) -> str:
    url = server.create_database(name)
    rapp.write(**{"0001_item": CREATE_ITEM_AND_SLOW_FUNCTION})
    first = start_safemigrate(rapp, url=url)
    assert first.wait(timeout=120) == 0, first.communicate()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO rapp_item (n) SELECT g FROM generate_series(1, %s) g", [ROWS])
    rapp.write(**{"0002_slow_index": SLOW_INDEX, "0003_backfill": BACKFILL})
    return url


def intact(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*), sum(n) FROM rapp_item").fetchone() == (
            ROWS, ROWS * (ROWS + 1) // 2,
        )  # fmt: skip
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM rapp_item WHERE copy IS DISTINCT FROM n"
                            ).fetchone() == (0,)  # fmt: skip
        names = conn.execute("SELECT name FROM django_migrations WHERE app = 'rapp' ORDER BY name")
        assert [r[0] for r in names] == ["0001_item", "0002_slow_index", "0003_backfill"]


@pytest.mark.parametrize("fault", [crash, outage], ids=["crash", "outage"])
@pytest.mark.parametrize(
    "moment", [(building_index, "0002_slow_index"), (backfilling, "0003_backfill")],
    ids=["mid-migration", "mid-backfill"],
)  # fmt: skip
def test_server_fault_then_rerun(
    rapp: MigrationsPackage,
    cluster: Cluster,
    fault: Callable[[Cluster], None],
    moment: tuple[Callable[[Any], bool], str],
) -> None:
    condition, step = moment
    url = prepare(rapp, cluster, f"zdt_{fault.__name__}_{step}")
    run = start_safemigrate(rapp, "rapp", url=url)
    wait_for(url, condition, f"the run to reach {step}")
    fault(cluster)
    out, err = run.communicate(timeout=120)
    output = out + err
    assert run.returncode == 3, output
    assert "Traceback" not in output, output
    assert f"rapp.{step}" in err, output  # which migration, and what the server said
    assert "run safemigrate again" in err, output
    print(err) if os.environ.get("ZDT_SHOW") else None
    rapp.write(**{"0003_backfill": BACKFILL.replace("pause_s=0.2", "pause_s=0")})  # faster
    rerun = start_safemigrate(rapp, "rapp", url=url)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, out + err
    intact(url)
