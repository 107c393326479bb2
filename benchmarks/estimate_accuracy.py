"""Estimates against the run: ``--plan`` and ``--rehearse`` of a ``DualWriteRename`` backfill,
then the run itself, on the same never-analysed table, in one go.

    python benchmarks/estimate_accuracy.py                   # 200,000 rows
    python benchmarks/estimate_accuracy.py --rows 2000000    # the issue's size

Uses DATABASE_URL (default .../zdt_bench_estimate; created if missing) and the runner tests'
app ``rapp`` (``tests/runner/rapp``) with a migrations package written to a temporary
directory; each case rebuilds ``rapp_item`` with ``--rows`` rows (a bulk load, no ANALYZE)
and runs ``safemigrate`` as a real process. Prints, per case (adaptive batches and fixed
1,000-row batches), the estimates, the step's time from the run's report and the ratios
(target: run / rehearsal within 0.5-2).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/zdt_bench_estimate"
CREATE = """from django.db import migrations, models


class Migration(migrations.Migration):
    operations = [migrations.CreateModel("Item", [
        ("id", models.BigAutoField(primary_key=True)), ("n", models.IntegerField(default=0))])]
"""
RENAME = """import django_zero_downtime.operations as zdt
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("rapp", "0001_item")]
    operations = [zdt.DualWriteRename("item", "n", "amount"{batch})]
"""
ESTIMATED = re.compile(r"backfill rapp_item: .*estimated ~([\d.]+) s")


def safemigrate(package: Path, url: str, *args: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ZDT_TEST_MIGRATIONS": package.name,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(package.parent)]),
        "DJANGO_SETTINGS_MODULE": "tests.runner.proc_settings",
    }
    command = [sys.executable, "-m", "django", "safemigrate", "--no-input", *args]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=True)
    return done.stdout


def sql(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def rebuild(package: Path, url: str, rows: int) -> None:
    sql(
        url,
        "DROP TABLE IF EXISTS rapp_item CASCADE",
        "DELETE FROM django_migrations WHERE app = 'rapp'",
        "DELETE FROM django_zero_downtime_backfillprogress",
        "DELETE FROM django_zero_downtime_deprecation",
    )
    safemigrate(package, url, "rapp", "0001_item", "-v", "0")
    sql(url, f"INSERT INTO rapp_item (n) SELECT g FROM generate_series(1, {rows}) g")


def case(package: Path, url: str, rows: int, batch: str) -> dict[str, Any]:
    (package / "0002_rename.py").write_text(RENAME.format(batch=batch))
    rebuild(package, url, rows)
    planned = float(ESTIMATED.findall(safemigrate(package, url, "rapp", "--plan"))[0])
    rehearsal = json.loads(safemigrate(package, url, "rapp", "--rehearse", "--format", "json"))
    rehearsed = rehearsal["migrations"][0]["operations"][0]["estimate_s"]
    report = package / "report.json"
    safemigrate(package, url, "rapp", "--report", str(report))
    [step] = json.loads(report.read_text())["timeline"]["steps"]
    return {"plan": planned, "rehearse": rehearsed, "run": step["end_s"] - step["start_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    rows = parser.parse_args().rows
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    sys.path.insert(0, str(REPO))
    from example_project.database import ensure_database, parse_database_url

    ensure_database(parse_database_url(url))
    with tempfile.TemporaryDirectory() as tmp:
        package = Path(tmp) / "zdt_bench_estimate_migrations"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "0001_item.py").write_text(CREATE)
        safemigrate(package, url, "django_zero_downtime", "-v", "0")
        for name, batch in (("adaptive", ""), ("1,000-row batches", ", batch_size=1000")):
            got = case(package, url, rows, batch)
            print(
                f"{rows:,} rows, {name}: plan {got['plan']:.1f} s, rehearse "
                f"{got['rehearse']:.1f} s, run {got['run']:.1f} s; run/rehearse "
                f"{got['run'] / got['rehearse']:.2f}, run/plan {got['run'] / got['plan']:.2f}"
            )


if __name__ == "__main__":
    main()
