"""What installing the app costs every management command, on a project with a real history.

    pip install -e '.[test]'   # wagtail + taggit
    python benchmarks/check_overhead.py [--runs N]

The wagtail + taggit + contrib scratch project (184 migrations, all applied first, i.e.
nothing pending) in two variants that differ only in ``INSTALLED_APPS``: with
``pgtrigger`` and ``django_zero_downtime``, and without them. Alternating runs of each, in
fresh processes, time (CPU of the child; the fastest and the median of ``--runs``):

- ``manage.py check``: start-up plus every system check (the figure CI pays);
- start-up alone: ``django.setup()`` (what every command, ``runserver`` reload and worker pays).

Prints both ratios; target: ``check`` with the app <= 1.02x without. CPU time on a shared
machine varies by more than 2% between runs; ``--instructions`` counts the instructions of
one ``manage.py check`` per variant with valgrind (callgrind) instead, which load does not
change (about two minutes per variant). ``DATABASE_URL``
(default ``zdt_bench_check``) is migrated once with plain ``migrate``.

Like for like: the "without" side has neither this app nor ``pgtrigger`` (a project that
does not install django-zero-downtime does not install its required ``pgtrigger`` either),
so the ratio charges pgtrigger's start-up (~0.4%) to the app. This package is byte-compiled
first (:func:`byte_compile`), as installing a wheel does: with ``PYTHONDONTWRITEBYTECODE``
set (as on the machine of issue 16) an editable checkout is otherwise compiled from source
in every process, which measured compile(), not the app.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.lint_scratch_project import byte_compile, environment, manage, write_project

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/zdt_bench_check"
OURS = '    "pgtrigger",\n    "django_zero_downtime",\n'
SETUP = "import django; django.setup()"


def without_app(directory: Path) -> None:
    settings = (directory / "scratch_settings.py").read_text()
    assert OURS in settings
    (directory / "bare_settings.py").write_text(settings.replace(OURS, ""))


def cpu(directory: Path, env: dict[str, str], *command: str) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, cwd=directory, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stdout + done.stderr
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def instructions(directory: Path, env: dict[str, str]) -> int:
    """Instructions ``manage.py check`` executes, counted by valgrind's callgrind: immune to
    the load of a shared machine, so a 2% difference shows in one run."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         "manage.py", "check"],
        cwd=directory, env=env, capture_output=True, text=True,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    assert done.returncode == 0 and found, done.stderr[-2000:]
    return int(found.group(1))


def count_instructions(directory: Path, ours: dict[str, str], bare: dict[str, str]) -> None:
    with_app, without = instructions(directory, ours), instructions(directory, bare)
    ratio = with_app / without
    print(
        f"  manage.py check, instructions (callgrind): with the app {with_app / 1e9:.3f} G, "
        f"without {without / 1e9:.3f} G: {ratio:.4f}x; target <= 1.02x: "
        f"{'OK' if ratio <= 1.02 else 'MISSED'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions with valgrind instead"
    )
    options = parser.parse_args()
    runs = options.runs
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    byte_compile()
    with tempfile.TemporaryDirectory() as tmp:
        directory = write_project(Path(tmp))
        without_app(directory)
        ours, bare = (
            environment(url),
            {**environment(url), "DJANGO_SETTINGS_MODULE": "bare_settings"},
        )
        done, _ = manage(directory, "migrate", "--no-input", env=ours)
        assert done.returncode == 0, done.stderr
        count = subprocess.run(
            [sys.executable, "manage.py", "showmigrations", "--plan"],
            cwd=directory,
            env=ours,
            capture_output=True,
            text=True,
        ).stdout.count("[X]")
        if options.instructions:
            print(f"scratch project: wagtail + taggit + contrib, {count} migrations applied")
            count_instructions(directory, ours, bare)
            return 0
        times: dict[str, list[float]] = {k: [] for k in ("check+", "check-", "setup+", "setup-")}
        for _ in range(runs):
            for env, sign in ((ours, "+"), (bare, "-")):
                times["check" + sign].append(
                    cpu(directory, env, sys.executable, "manage.py", "check")
                )
                times["setup" + sign].append(cpu(directory, env, sys.executable, "-c", SETUP))
    print(
        f"scratch project: wagtail + taggit + contrib, {count} migrations applied, nothing "
        f"pending; {runs} interleaved runs per variant"
    )
    ratios = {}
    for statistic, pick in (("fastest", min), ("median", statistics.median)):
        best = {key: pick(values) for key, values in times.items()}
        for what in ("check", "setup"):
            ratios[what, statistic] = best[what + "+"] / best[what + "-"]
            extra = (best[what + "+"] - best[what + "-"]) * 1000
            label = "manage.py check" if what == "check" else "django.setup()"
            print(
                f"  {statistic:<7} {label:<16} with the app {best[what + '+']:.3f} s CPU, "
                f"without {best[what + '-']:.3f} s: {ratios[what, statistic]:.3f}x "
                f"({extra:+.0f} ms)"
            )
    verdict = ratios["check", "median"] <= 1.02
    print(f"  target: manage.py check <= 1.02x (median): {'OK' if verdict else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
