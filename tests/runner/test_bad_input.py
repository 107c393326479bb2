"""Bad input, each as a real ``safemigrate`` (or ``migrate``/``sqlmigrate``) process: a clear
message naming the setting, file or operation, the documented exit code, no traceback, and
the database unchanged where the message says nothing was applied."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.runner.conftest import (
    CREATE_ITEM,
    REPO,
    MigrationsPackage,
    database_url,
    fill,
    migration,
    safemigrate,
)
from tests.runner.servers import Cluster

pytestmark = [pytest.mark.django_db(transaction=True)]

ROWS = 20


@dataclass(frozen=True)
class Case:
    id: str
    code: int
    says: tuple[str, ...]
    second: str | None = None
    """Source of ``0002_next`` (None: no new migration)."""
    settings: str = ""
    """Lines appended to the subprocess's settings module."""
    args: tuple[str, ...] = ()
    command: str = "safemigrate"
    unchanged: bool = True
    url: str = ""
    """``down`` (a port nothing listens on), ``missing`` (no such database), or ''."""
    reported: bool = True
    """The run writes ``--report`` (not when the command line itself cannot be parsed)."""


def op(body: str, *, atomic: bool = True, head: str = "") -> str:
    source = migration(["0001_item"], body, atomic=atomic)
    return source.replace("\n\n\n", f"\n{head}\n\n\n") if head else source


ADD = '        migrations.AddField("item", "note", models.TextField(null=True)),'
RAISE = "def boom(apps, schema_editor):\n    raise ValueError('the data is not what I expected')\n"
RAISING = op("        migrations.RunPython(boom),", head=RAISE)
RAISING_NON_ATOMIC = op(
    f"{ADD}\n        migrations.RunSQL('UPDATE rapp_item SET n = n'),\n"
    "        migrations.RunPython(boom),",
    atomic=False,
    head=RAISE,
)
ZDT = "import django_zero_downtime.operations as zdt"


def setting(name: str, value: str) -> Case:
    return Case(f"setting-{name}-{value}", 3, (name, "is not valid", "zdt.E001"), ADD_NOTE_FILE,
                settings=f"{name} = {value}")  # fmt: skip


ADD_NOTE_FILE = op(ADD)

CASES = [
    setting("ZDT_LOCK_TIMEOUT_MS", "-1"),
    setting("ZDT_LOCK_TIMEOUT_MS", "'500'"),
    setting("ZDT_MAX_RETRIES", "True"),
    setting("ZDT_MAX_BLOCKING_MS", "0"),
    setting("ZDT_RULES_SEVERITY", "{'ZDT103': 'loud'}"),
    setting("ZDT_RULES_SELECT", "'ZDT101'"),
    setting("ZDT_MIGRATION_DATABASE", "'nope'"),
    setting("ZDT_POSTGRES_VERSION", "9"),
    setting("ZDT_BACKFILL_THROTTLE_SQL", "''"),
    setting("ZDT_BASELINE", "['rapp']"),
    Case("flag-lock-timeout", 3, ("--lock-timeout 0 is not valid",), ADD_NOTE_FILE,
         args=("--lock-timeout", "0")),
    Case("flag-max-retries", 3, ("--max-retries -1 is not valid",), ADD_NOTE_FILE,
         args=("--max-retries", "-1")),
    Case("flag-database-unknown", 3, ("--database 'nosuch' is not one of the DATABASES aliases",
                                      "(default)"), ADD_NOTE_FILE, args=("--database", "nosuch")),
    Case("flag-not-a-number", 3, ("--statement-timeout", "invalid int value"), ADD_NOTE_FILE,
         args=("--statement-timeout", "soon"), reported=False),
    Case("syntax-error", 3, ("0002_next.py", "line 3", "SyntaxError"),
         "from django.db import migrations\n\nclass Migration(migrations.Migration:\n"),
    Case("import-error", 3, ("0002_next.py", "No module named 'rapp_helpers'"),
         "import rapp_helpers\n" + ADD_NOTE_FILE),
    Case("name-error", 3, ("0002_next.py", "NameError", "undefined_thing"),
         ADD_NOTE_FILE + "\nundefined_thing()\n"),
    Case("no-migration-class", 3, ("0002_next", "has no Migration class"),
         "from django.db import migrations\n"),
    Case("operations-not-a-list", 3, ("rapp.0002_next", "zdt.E011", "str"),
         ADD_NOTE_FILE.replace("operations = [", "operations = 'AddField' or [")),
    Case("operation-not-an-operation", 3, ("rapp.0002_next", "zdt.E011", "operation 1 (int)"),
         op(f"{ADD}\n        42,")),
    Case("operation-bad-arguments", 3, ("0002_next.py", "TypeError", "AddField"),
         op('        migrations.AddField("item", models.TextField(null=True)),')),
    Case("missing-dependency", 3, ("0002_next", "0001_nothere"),
         ADD_NOTE_FILE.replace("0001_item", "0001_nothere")),
    Case("operation-raises", 3, ("rapp.0002_next", "RunPython", "the data is not what I expected",
                                 "rolled back"), RAISING),
    Case("operation-raises-non-atomic", 3, ("rapp.0002_next", "RunPython", "stayed applied",
                                            "ADD COLUMN", "run safemigrate again"),
         RAISING_NON_ATOMIC, unchanged=False),
    Case("unparsable-runsql", 3, ("rapp.0002_next", "RunSQL", "syntax error"),
         op("        migrations.RunSQL('ALTER TABLE rapp_item ADD COLUMN (oops'),")),
    Case("runsql-missing-table", 3, ("rapp.0002_next", "RunSQL", "rapp_nothere"),
         op("        migrations.RunSQL('UPDATE rapp_nothere SET x = 1'),")),
    Case("unsafe-operation-argument", 3, ("rapp.0002_next", "Add field at to item", "callable"),
         op('        zdt.AddColumnWithDefault("item", "at", models.DateTimeField(default=now)),',
            head=f"{ZDT}\nfrom django.utils.timezone import now")),
    Case("report-dir-missing", 3, ("--report", "/nonexistent-zdt/r.json", "cannot be written"),
         ADD_NOTE_FILE, args=("--report", "/nonexistent-zdt/r.json")),
    Case("report-is-a-directory", 3, ("--report", "/tmp", "cannot be written"),
         ADD_NOTE_FILE, args=("--report", "/tmp")),
    Case("report-parent-is-a-file", 3, ("--report", "cannot be written"),
         ADD_NOTE_FILE, args=("--report", "/etc/hostname/r.json")),
    Case("report-html-dir-missing", 3, ("--report-html", "cannot be written"),
         ADD_NOTE_FILE, args=("--report-html", "/nonexistent-zdt/r.html")),
    Case("database-down", 3, ("Cannot connect to database 'default'", ":9/", "Connection refused"),
         ADD_NOTE_FILE, url="down"),
    Case("database-missing", 3, ("database", "does not exist"), ADD_NOTE_FILE, url="missing"),
    Case("migrate-gate-refusal", 1, ("migrate is disabled where ZDT_PRODUCTION = True",),
         ADD_NOTE_FILE, settings="ZDT_PRODUCTION = True", command="migrate"),
    Case("migrate-ledger-gate", 1, ("rapp.0002_next", "Refusing to drop column rapp_item.n"),
         op('        zdt.DeprecateColumn("item", "n"),\n'
            '        zdt.DropDeprecatedColumn("item", "n"),', head=ZDT), command="migrate"),
    Case("sqlmigrate-ledger-gate", 1, ("Refusing to drop column rapp_item.n",),
         op('        zdt.DeprecateColumn("item", "n"),\n'
            '        zdt.DropDeprecatedColumn("item", "n"),', head=ZDT),
         command="sqlmigrate", args=("rapp", "0002")),
]  # fmt: skip


def snapshot() -> tuple[object, ...]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT array_agg(name ORDER BY name) FROM django_migrations "
            "WHERE app = 'rapp'), (SELECT array_agg(attname::text ORDER BY attnum) "
            "FROM pg_attribute WHERE attrelid = 'rapp_item'::regclass AND attnum > 0 "
            "AND NOT attisdropped), (SELECT count(*) FROM rapp_item), "
            "(SELECT md5(string_agg(id || ':' || n, ',' ORDER BY id)) FROM rapp_item)"
        )
        return tuple(cursor.fetchone())


def url_for(kind: str) -> str:
    base = database_url()
    if kind == "down":
        return base.rsplit(":", 1)[0] + ":9/" + base.rsplit("/", 1)[1]
    if kind == "missing":
        return base.rsplit("/", 1)[0] + "/zdt_no_such_database"
    return base


def run(package: MigrationsPackage, case: Case, *args: str) -> subprocess.CompletedProcess[str]:
    module = f"zdt_bad_settings_{uuid.uuid4().hex[:8]}"
    (package.path.parent / f"{module}.py").write_text(
        f"from tests.runner.proc_settings import *  # noqa\n{case.settings}\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url_for(case.url),
        "ZDT_TEST_MIGRATIONS": package.name,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(package.path.parent)]),
        "DJANGO_SETTINGS_MODULE": module,
    }
    command = [sys.executable, "-m", "django", case.command, *args]
    return subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)


def arguments(case: Case, report: Path) -> tuple[str, ...]:
    if case.command == "sqlmigrate":
        return case.args
    given = "--report" in case.args or case.command != "safemigrate" or not case.reported
    return ("--no-input", "rapp", *case.args, *(() if given else ("--report", str(report))))


PREFLIGHT = [c for c in CASES if c.second == ADD_NOTE_FILE and c.command == "safemigrate"]
"""Refused before anything runs, all on the same migrations: run side by side."""
OTHERS = [case for case in CASES if case not in PREFLIGHT]


def setup(rapp: MigrationsPackage, second: str | None) -> tuple[object, ...]:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    fill("rapp_item", ROWS)
    if second is not None:
        rapp.write(**{"0002_next": second})
    return snapshot()


def judge(case: Case, done: subprocess.CompletedProcess[str], report: Path) -> None:
    output = done.stdout + done.stderr
    assert "Traceback" not in output, (case.id, output)
    assert done.returncode == case.code, (case.id, output)
    for text in case.says:
        assert text in output, (case.id, output)
    if "--report" in arguments(case, report) and "--report" not in case.args:
        written = json.loads(report.read_text())  # written on every outcome
        assert written["exit_code"] == case.code, case.id
        assert case.says[0] in written["message"], case.id


def test_refused_before_anything_runs(rapp: MigrationsPackage, tmp_path: Path) -> None:
    """Settings, flags, report paths, an unreachable or missing database: each its message
    and exit code, nothing applied (the cases run as parallel processes)."""
    before = setup(rapp, ADD_NOTE_FILE)
    reports = {case.id: tmp_path / f"{index}.json" for index, case in enumerate(PREFLIGHT)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(lambda c: run(rapp, c, *arguments(c, reports[c.id])), PREFLIGHT))
    for case, result in zip(PREFLIGHT, done, strict=True):
        judge(case, result, reports[case.id])
    assert snapshot() == before


@pytest.mark.parametrize("case", OTHERS, ids=[case.id for case in OTHERS])
def test_bad_input(rapp: MigrationsPackage, case: Case, tmp_path: Path) -> None:
    before = setup(rapp, case.second)
    report = tmp_path / "report.json"
    judge(case, run(rapp, case, *arguments(case, report)), report)
    if case.unchanged:
        assert snapshot() == before, case.id


def test_traceback_only_when_asked(rapp: MigrationsPackage) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    rapp.write(**{"0002_next": RAISING})
    case = Case("traceback", 3, ())
    done = run(rapp, case, "--no-input", "rapp", "--traceback")
    assert "Traceback" in done.stderr
    assert "ValueError: the data is not what I expected" in done.stderr


def test_non_atomic_failure_reruns_to_completion(rapp: MigrationsPackage, tmp_path: Path) -> None:
    """After an error half way through a non-atomic migration, the fixed rerun continues:
    the column that stayed applied is not added twice."""
    rapp.write(**{"0001_item": CREATE_ITEM})
    assert safemigrate("rapp").code == 0
    rapp.write(**{"0002_next": RAISING_NON_ATOMIC})
    report = tmp_path / "r.json"
    done = run(rapp, Case("partial", 3, ()), "--no-input", "rapp", "--report", str(report))
    assert done.returncode == 3
    assert any("ADD COLUMN" in sql for sql in json.loads(report.read_text())["stayed_applied"])
    rapp.write(**{"0002_next": RAISING_NON_ATOMIC.replace("raise ValueError", "return None #")})
    again = run(rapp, Case("rerun", 0, ()), "--no-input", "rapp")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already exists" not in again.stdout + again.stderr


def password_cluster() -> Cluster:
    """A throwaway cluster that asks TCP clients for a SCRAM password."""
    cluster = Cluster(password_encryption="scram-sha-256")
    cluster.start()
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute("ALTER ROLE postgres PASSWORD 'right-password'")
    hba = cluster.data / "pg_hba.conf"
    hba.write_text("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
    with psycopg.connect(f"host={cluster.dir} port={cluster.port} user=postgres") as conn:
        conn.execute("SELECT pg_reload_conf()")
    return cluster


@pytest.mark.slow
def test_wrong_password_and_unknown_role(rapp: MigrationsPackage) -> None:
    rapp.write(**{"0001_item": CREATE_ITEM})
    cluster = password_cluster()
    try:
        for auth, said in (
            ("postgres:wrong-password", 'password authentication failed for user "postgres"'),
            ("nobody:x", 'password authentication failed for user "nobody"'),
        ):
            url = f"postgres://{auth}@127.0.0.1:{cluster.port}/postgres"
            done = run_url(rapp, url)
            output = done.stdout + done.stderr
            assert done.returncode == 3, output
            assert "Traceback" not in output, output
            assert said in output and "Cannot connect to database 'default'" in output
            assert "wrong-password" not in output  # the message never shows the password
        right = f"postgres://postgres:right-password@127.0.0.1:{cluster.port}/postgres"
        assert run_url(rapp, right).returncode == 0
    finally:
        cluster.__exit__()


def run_url(package: MigrationsPackage, url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ZDT_TEST_MIGRATIONS": package.name,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(package.path.parent)]),
        "DJANGO_SETTINGS_MODULE": "tests.runner.proc_settings",
    }
    command = [sys.executable, "-m", "django", "safemigrate", "--no-input", "rapp"]
    return subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
