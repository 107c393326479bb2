"""``lifecycle_demo --scenario bigint``: an integer primary key widened to bigint, live.

``shop.Order`` (``AutoField`` key) and ``shop.Line`` (foreign key to it). Three releases,
each its own folder of code, as a deploy ships them:

1. ``AutoField``; its run creates the tables, then ``rows`` orders with two lines each;
2. ``BigAutoField``, with the migrations ``makemigrations`` writes for it (the expand:
   ``DeclareModelChange`` + ``RetypeField``; the contract ``CompleteRetypeField``, held back);
3. the same code again: its run applies the contract (the swap under one brief lock).

Each release serves as its own process (``bigint_worker``) through its own models. Every
step: ``safemigrate --release`` while the previous release serves, then 50/50 (both
serve), rollback (the previous one alone), forward (the new one alone). Before release 3
goes 50/50 the key sequence is moved past 2**31, so both bigint releases then write keys an
integer column could not hold. It ends non-zero on any failed request or inconsistent row.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from example_project.lifecycle import database

ROOT = Path(__file__).resolve().parents[2]
MODELS = """\
from django.db import models


class Order(models.Model):
    id = models.{auto}(primary_key=True)
    label = models.CharField(max_length=20)
    hits = models.IntegerField(default=0)


class Line(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    n = models.IntegerField(default=0)
"""
SETTINGS = """\
from example_project.database import parse_database_url
SECRET_KEY = "demo"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "pgtrigger",
                  "django_zero_downtime", "shop"]
DATABASES = {{"default": parse_database_url({url!r})}}
USE_TZ = True
ZDT_LARGE_TABLE_ROWS = {large}
ZDT_BACKFILL_BATCH_SIZE = 2000
ZDT_MIN_CYCLE_INTERVAL = 0  # the demo's releases are seconds apart
"""
BEYOND_INT = 2**31 + 1000


@dataclass(frozen=True)
class BigintOptions:
    rows: int = 50_000
    seconds: float = 8.0


QUICK_BIGINT = BigintOptions(rows=3_000, seconds=2.0)


class Release:
    """One release's folder (code + migrations) and its serving process."""

    def __init__(self, demo: BigintDemo, number: int) -> None:
        self.demo, self.number = demo, number
        self.folder = demo.workdir / f"release{number}"
        self.process: subprocess.Popen[str] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": f"{self.folder}:{ROOT}",
            "DJANGO_SETTINGS_MODULE": "settings",
            "ZDT_DEMO_SEEDED": str(self.demo.options.rows),
        }

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "django", *args]
        return subprocess.run(
            command, cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=900
        )

    def start(self) -> None:
        stop = self.folder / "stop"
        stop.unlink(missing_ok=True)
        command = [sys.executable, "-m", "example_project.lifecycle.bigint_worker", str(stop)]
        self.process = subprocess.Popen(
            command, cwd=self.folder, env=self.env, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"release {self.number} did not start")

    def stop(self) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        (self.folder / "stop").touch()
        result = json.loads(self.process.stdout.readline())
        self.process.wait(timeout=60)
        self.process = None
        return dict(result)


class BigintDemo:
    def __init__(
        self,
        db_config: dict[str, Any],
        workdir: Path,
        options: BigintOptions,
        write: Callable[[str], None],
    ) -> None:
        self.db_config, self.workdir, self.options, self.write = db_config, workdir, options, write
        self.failed = 0
        self.requests = 0

    def run(self) -> int:
        database.recreate(self.db_config)
        one, two, three = (self.release(n) for n in (1, 2, 3))
        self.deploy_first(one)
        self.deploy(one, two, expect="Held back shop.")
        self.deploy(two, three, expect="Applying shop.", bump=True)
        three.stop()
        return self.verdict()

    def release(self, number: int) -> Release:
        release = Release(self, number)
        (release.folder / "shop" / "migrations").mkdir(parents=True, exist_ok=True)
        (release.folder / "shop" / "__init__.py").write_text("")
        (release.folder / "shop" / "migrations" / "__init__.py").write_text("")
        url = database.database_url(self.db_config)
        large = max(1, self.options.rows // 2)  # the size rule applies: the table is "large"
        (release.folder / "settings.py").write_text(SETTINGS.format(url=url, large=large))
        auto = "AutoField" if number == 1 else "BigAutoField"
        (release.folder / "shop" / "models.py").write_text(MODELS.format(auto=auto))
        if number > 1:  # the release ships the previous migrations plus the new ones
            previous = self.workdir / f"release{number - 1}" / "shop" / "migrations"
            for path in previous.glob("0*.py"):
                shutil.copy(path, release.folder / "shop" / "migrations")
        if number < 3:
            self.checked(release, "makemigrations", "shop")
        return release

    def checked(self, release: Release, *args: str) -> str:
        done = release.manage(*args)
        if done.returncode != 0:
            raise RuntimeError(
                f"release {release.number}: {' '.join(args)}:\n{done.stdout}{done.stderr}"
            )
        return done.stdout

    def deploy_first(self, one: Release) -> None:
        self.checked(one, "safemigrate", "--release", "r1")
        with database.connect(self.db_config) as conn:
            rows = self.options.rows
            conn.execute(
                "INSERT INTO shop_order (label, hits) "
                "SELECT 'o' || g, 0 FROM generate_series(1, %s) g",
                [rows],
            )
            conn.execute(
                "INSERT INTO shop_line (order_id, n) "
                "SELECT 1 + (g - 1) / 2, g FROM generate_series(1, %s) g",
                [2 * rows],
            )
            conn.execute("ANALYZE")
        one.start()
        self.write(f"Release r1: tables created, {rows:,} orders with two lines each; serving")

    def deploy(self, old: Release, new: Release, expect: str, bump: bool = False) -> None:
        label = f"r{new.number}"
        output = self.checked(new, "safemigrate", "--release", label)
        said = expect in output
        verdict = "ok" if said else "UNEXPECTED"
        self.write(
            f"Release {label}: safemigrate --release {label} while r{old.number} serves: {verdict}"
        )
        self.failed += 0 if said else 1
        for line in output.splitlines():
            if line.startswith(("Held back", "Applying")):
                self.write(f"  {line}")
        self.count("migrate", [old], [old.stop()], "served")
        old.start()
        if bump:
            with database.connect(self.db_config) as conn:
                conn.execute(
                    "SELECT setval(pg_get_serial_sequence('shop_order', 'id'), %s)", [BEYOND_INT]
                )
            self.write(f"  key sequence moved to {BEYOND_INT:,} (beyond the integer range)")
        new.start()
        self.phase("50/50", old, new, stop=[])
        self.phase("rollback", old, stop=[new])
        new.start()
        self.phase("forward", new, stop=[old])

    def phase(self, name: str, *serving: Release, stop: list[Release]) -> None:
        results = [release.stop() for release in stop]  # stopped releases report first
        self.count(name, stop, results, "stopped")
        time.sleep(self.options.seconds)
        for release in serving:  # restart to collect each serving release's figures
            result = release.stop()
            self.count(name, [release], [result], "served")
            release.start()

    def count(
        self, phase: str, releases: list[Release], results: list[dict[str, Any]], how: str
    ) -> None:
        for release, result in zip(releases, results, strict=True):
            self.requests += result["requests"]
            self.failed += result["failed"]
            errors = f" errors: {result['errors']}" if result["errors"] else ""
            self.write(
                f"  {phase:8} r{release.number} {how}: {result['requests']} requests, "
                f"{result['failed']} failed, highest id {result['highest_id']:,}{errors}"
            )

    def verdict(self) -> int:
        with database.connect(self.db_config) as conn:
            facts = conn.execute(CHECKS).fetchone()
        assert facts is not None
        order_type, line_type, orphans, incomplete, highest, fk_valid = facts
        bad = (
            orphans
            + incomplete
            + (order_type != "bigint")
            + (line_type != "bigint")
            + (not fk_valid)
        )
        self.write(
            f"Final schema: shop_order.id {order_type}, shop_line.order_id {line_type}, "
            f"foreign key validated: {fk_valid}; highest order id {highest:,}"
        )
        self.write(f"{self.requests} requests, {self.failed} failed, {bad} inconsistent rows")
        ok = self.failed == 0 and bad == 0 and highest > BEYOND_INT
        self.write("Lifecycle demo (bigint) OK" if ok else "Lifecycle demo (bigint) FAILED")
        return 0 if ok else 1


_TYPE = (
    "format_type((SELECT atttypid FROM pg_attribute "
    "WHERE attrelid = '{}'::regclass AND attname = '{}'), NULL)"
)
CHECKS = f"""
SELECT {_TYPE.format("shop_order", "id")}, {_TYPE.format("shop_line", "order_id")},
  (SELECT count(*) FROM shop_line l LEFT JOIN shop_order o ON o.id = l.order_id
    WHERE o.id IS NULL),
  (SELECT count(*) FROM (SELECT order_id FROM shop_line GROUP BY order_id
    HAVING count(*) <> 2) s),
  (SELECT max(id) FROM shop_order),
  (SELECT bool_and(convalidated) FROM pg_constraint
    WHERE conrelid = 'shop_line'::regclass AND contype = 'f')
"""
