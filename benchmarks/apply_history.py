"""``safemigrate`` against plain ``migrate`` applying a real history to an empty database.

    pip install -e '.[test]'   # wagtail + taggit
    python benchmarks/apply_history.py [--runs N]

The wagtail + taggit + contrib scratch project (184 migrations). Each run creates two empty
databases and applies the whole history to one with ``manage.py migrate`` and to the other
with ``manage.py safemigrate``, alternating which goes first; wall time of each command
(fresh process, start-up included), the fastest of ``--runs``. Target: <= 1.2x.
Uses the server of ``DATABASE_URL`` (default 127.0.0.1:5432); databases are dropped after.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.lint_scratch_project import environment, manage, write_project

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


def apply(directory: Path, server: str, command: str) -> float:
    name = fresh(server)
    try:
        done, seconds = manage(
            directory, command, "--no-input", env=environment(with_database(server, name))
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return seconds
    finally:
        drop(server, name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    server = with_database(os.environ.get("DATABASE_URL") or SERVER, "postgres")
    times: dict[str, list[float]] = {"migrate": [], "safemigrate": []}
    with tempfile.TemporaryDirectory() as tmp:
        directory = write_project(Path(tmp))
        for run in range(runs):
            order = ["migrate", "safemigrate"] if run % 2 == 0 else ["safemigrate", "migrate"]
            for command in order:
                times[command].append(apply(directory, server, command))
    best = {command: min(values) for command, values in times.items()}
    ratio = best["safemigrate"] / best["migrate"]
    print("applying wagtail + taggit + contrib (184 migrations) to an empty database")
    print(f"  migrate     {best['migrate']:.1f} s")
    print(f"  safemigrate {best['safemigrate']:.1f} s")
    print(f"  ratio {ratio:.2f}x (target <= 1.2): {'OK' if ratio <= 1.2 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
