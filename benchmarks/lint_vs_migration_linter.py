"""Lint the same real migration history with our checker and with django-migration-linter.

    pip install -e '.[test,bench]'   # wagtail + taggit (test), django-migration-linter
    python benchmarks/lint_vs_migration_linter.py

Generates a scratch project (wagtail + taggit, ~200 migrations) in a temporary directory,
then times, in one run and on the same corpus:

- the project's bare ``manage.py check`` (start-up: Django set-up, app loading, checks);
- ``manage.py safemigrate --check --all`` (ours);
- ``manage.py lintmigrations --no-cache --ignore-sqlmigrate-errors`` (theirs: one
  ``sqlmigrate`` per migration; without the flag it stops at the first migration whose SQL
  needs database introspection).

Each time minus its start-up time is the linting time; the ratio is theirs / ours (target
>= 10x). ``lintmigrations`` runs Django's system checks before linting, so its start-up is
the bare ``manage.py check``; ``safemigrate --check`` skips them (it reports zdt.E010's
findings itself), so its start-up is ``manage.py help`` (Django set-up, no checks): the
conservative comparison. The issue's literal one (both minus ``manage.py check``) is printed
too. Wall and CPU time are both printed (the machine may be shared; CPU is steadier).
Uses ``DATABASE_URL`` (default: a local ``zdt_bench_lint`` database, created on use): the
migration linter needs a connection to render SQL; ours does not.
"""

from __future__ import annotations

import importlib.util
import os
import re
import resource
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.lint_scratch_project import environment, manage, write_project

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/zdt_bench_lint"


@dataclass
class Timing:
    wall: float
    cpu: float


def timed(directory: Path, env: dict[str, str], *args: str) -> tuple[Timing, str, str, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done, wall = manage(directory, *args, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Timing(wall, cpu), done.stdout, done.stderr, done.returncode


def median(timings: list[Timing]) -> Timing:
    return Timing(
        statistics.median(t.wall for t in timings), statistics.median(t.cpu for t in timings)
    )


def require(*modules: str) -> None:
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        sys.exit(f"Missing {', '.join(missing)}: run  pip install -e '.[test,bench]'  first.")


def main(repeat: int = 3) -> None:
    require("wagtail", "taggit", "django_migration_linter")
    env = environment(os.environ.get("DATABASE_URL") or DEFAULT_URL)
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    from example_project.database import ensure_database, parse_database_url

    ensure_database(parse_database_url(env["DATABASE_URL"]))
    with tempfile.TemporaryDirectory(prefix="zdt_lint_bench_") as tmp:
        project = write_project(Path(tmp), ("django_migration_linter",))
        run_all(project, env, repeat)


def run_all(project: Path, env: dict[str, str], repeat: int) -> None:
    timed(project, env, "check")  # warm the file system cache and .pyc files
    bare = median([timed(project, env, "check")[0] for _ in range(repeat)])
    setup = median([timed(project, env, "help")[0] for _ in range(repeat)])
    ours_runs = [
        timed(project, env, "safemigrate", "--check", "--all", "--format", "json")
        for _ in range(repeat)
    ]
    ours = median([run[0] for run in ours_runs])
    theirs_time, theirs_out, theirs_err, _ = timed(
        project, env, "lintmigrations", "--no-cache", "--ignore-sqlmigrate-errors"
    )
    print_corpus(ours_runs[0][1], theirs_out, theirs_err)
    report(bare, setup, ours, theirs_time)


def print_corpus(ours_json: str, out: str, err: str) -> None:
    import json

    summary = json.loads(ours_json)["summary"]
    total = re.search(r"Valid migrations: \d+/(\d+)", out)
    failed = err.count("Error while executing sqlmigrate")
    print(
        f"corpus: wagtail + taggit + Django contrib; ours linted "
        f"{summary['migrations_linted']} migrations (squashed ones replace their originals), "
        f"django-migration-linter {total.group(1) if total else '?'}"
    )
    print(
        f"ours: {summary['errors']} errors, {summary['warnings']} warnings; "
        f"django-migration-linter: sqlmigrate failed on {failed} migrations"
    )


def report(bare: Timing, setup: Timing, ours: Timing, theirs: Timing) -> None:
    """Each command minus the start-up it pays: lintmigrations runs Django's system checks
    first (like ``manage.py check``); ``safemigrate --check`` skips them (like ``help``)."""
    print(f"{'':40}{'wall s':>10}{'cpu s':>10}")
    rows = [
        ("start-up: manage.py check", bare),
        ("start-up without checks: manage.py help", setup),
        ("ours: safemigrate --check --all", ours),
        ("theirs: lintmigrations", theirs),
    ]
    for label, timing in rows:
        print(f"{label:40}{timing.wall:10.2f}{timing.cpu:10.2f}")
    ours_net = Timing(max(ours.wall - setup.wall, 0.01), max(ours.cpu - setup.cpu, 0.01))
    theirs_net = Timing(theirs.wall - bare.wall, theirs.cpu - bare.cpu)
    print(f"{'ours - start-up without checks':40}{ours_net.wall:10.2f}{ours_net.cpu:10.2f}")
    print(f"{'theirs - manage.py check':40}{theirs_net.wall:10.2f}{theirs_net.cpu:10.2f}")
    literal = Timing(max(ours.wall - bare.wall, 0.01), max(ours.cpu - bare.cpu, 0.01))
    print(
        f"literal (both minus manage.py check): {theirs_net.wall / literal.wall:.1f}x wall, "
        f"{theirs_net.cpu / literal.cpu:.1f}x cpu"
    )
    wall_ratio, cpu_ratio = theirs_net.wall / ours_net.wall, theirs_net.cpu / ours_net.cpu
    verdict = "PASS" if min(wall_ratio, cpu_ratio) >= 10 else "FAIL"
    print(
        f"ratio theirs/ours: {wall_ratio:.1f}x wall, {cpu_ratio:.1f}x cpu (target >= 10x): "
        f"{verdict}"
    )


if __name__ == "__main__":
    main()
