"""``safemigrate`` against plain ``migrate`` applying a real history to an empty database.

    pip install -e '.[test]'   # wagtail + taggit
    python benchmarks/apply_history.py [--runs N]

The wagtail + taggit + contrib scratch project (185 migrations). Each run creates two empty
databases and applies the whole history to one with Django's own ``migrate`` command and to
the other with ``manage.py safemigrate``, alternating which goes first; wall and CPU time of
each whole process (start-up and system checks included, what a deploy step waits for),
the fastest and the median of ``--runs``, the same number of runs per side. Target: <= 1.2x.

The baseline is Django's ``migrate`` class itself, run the way ``manage.py`` runs it
(``run_from_argv``: system checks, then the command), in the same project: with this app
installed, ``manage.py migrate`` is this app's guarded ``migrate``, which is not the
baseline.
Uses the server of ``DATABASE_URL`` (default 127.0.0.1:5432); databases are dropped after.

``--instructions`` counts instructions with valgrind (callgrind, ``--separate-threads``,
``PYTHONHASHSEED=0``, this package and the project byte-compiled), one run per side: the
process's main thread (start-up, checks, plan, apply: the same work every run, within
~0.5%) and its other threads apart (the monitor's sampling and the run lock's keeper, whose
count follows wall time, which valgrind stretches some 50 times: the count of a real run is
that much smaller). About ten minutes per side.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.lint_scratch_project import byte_compile, environment, write_project

DJANGO_MIGRATE = """\
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scratch_settings")
import django
django.setup()
from django.core.management.commands.migrate import Command
Command().run_from_argv(["manage.py", "migrate", *sys.argv[1:]])
"""

SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def fresh(server: str) -> str:
    name = f"zdt_bench_apply_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop(server: str, name: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def apply(directory: Path, server: str, command: str) -> tuple[float, float]:
    """Wall and CPU seconds of the whole process applying the history to a new database."""
    name = fresh(server)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        started = time.perf_counter()
        done = subprocess.run(
            command_line(command),
            cwd=directory,
            env=environment(with_database(server, name)),
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    finally:
        drop(server, name)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def command_line(command: str) -> list[str]:
    script = "django_migrate.py" if command == "migrate" else "manage.py"
    return [sys.executable, script, *([] if command == "migrate" else [command]), "--no-input"]


def instructions(directory: Path, server: str, command: str) -> tuple[int, int]:
    """Instructions of the main thread and of all other threads, applying the history."""
    name = fresh(server)
    out = directory / f"callgrind-{command}"
    try:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--separate-threads=yes",
             f"--callgrind-out-file={out}", *command_line(command)],
            cwd=directory, capture_output=True, text=True, timeout=7200,
            env={**environment(with_database(server, name)), "PYTHONHASHSEED": "0"},
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    finally:
        drop(server, name)
    counts = {path.name: _total(path) for path in directory.glob(f"callgrind-{command}-*")}
    main = counts.pop(f"callgrind-{command}-01", 0)
    return main, sum(counts.values())


def _total(path: Path) -> int:
    found = re.search(r"^(?:summary|totals): (\d+)", path.read_text(), re.MULTILINE)
    assert found, path
    return int(found.group(1))


def count_instructions(directory: Path, server: str) -> None:
    byte_compile(directory)
    counts = {command: instructions(directory, server, command) for command in COMMANDS}
    print("applying wagtail + taggit + contrib (185 migrations), giga-instructions (callgrind)")
    for command, (main, others) in counts.items():
        print(f"  {command:<11} main thread {main / 1e9:6.2f}, other threads {others / 1e9:5.2f}")
    ratio = counts["safemigrate"][0] / counts["migrate"][0]
    print(f"  main thread: safemigrate / migrate {ratio:.3f}x")


COMMANDS = ("migrate", "safemigrate")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--instructions", action="store_true")
    arguments = parser.parse_args()
    runs = arguments.runs
    server = with_database(os.environ.get("DATABASE_URL") or SERVER, "postgres")
    if arguments.instructions:
        with tempfile.TemporaryDirectory() as tmp:
            directory = write_project(Path(tmp))
            (directory / "django_migrate.py").write_text(DJANGO_MIGRATE)
            count_instructions(directory, server)
        return 0
    times: dict[str, list[tuple[float, float]]] = {"migrate": [], "safemigrate": []}
    with tempfile.TemporaryDirectory() as tmp:
        directory = write_project(Path(tmp))
        (directory / "django_migrate.py").write_text(DJANGO_MIGRATE)
        for run in range(runs):
            order = ["migrate", "safemigrate"] if run % 2 == 0 else ["safemigrate", "migrate"]
            for command in order:
                times[command].append(apply(directory, server, command))
    print(f"applying wagtail + taggit + contrib (185 migrations) to an empty database, {runs} runs")
    ratios = {}
    for index, what in ((0, "wall"), (1, "CPU")):
        best = {command: min(t[index] for t in values) for command, values in times.items()}
        middle = {c: statistics.median(t[index] for t in values) for c, values in times.items()}
        ratios[what] = best["safemigrate"] / best["migrate"]
        print(
            f"  {what:<4} Django migrate {best['migrate']:5.1f} s, safemigrate "
            f"{best['safemigrate']:5.1f} s: {ratios[what]:.2f}x (medians {middle['migrate']:.1f} "
            f"s, {middle['safemigrate']:.1f} s: {middle['safemigrate'] / middle['migrate']:.2f}x)"
        )
    verdict = "OK" if ratios["wall"] <= 1.2 else "MISSED"
    print(f"  target: wall <= 1.2x: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
