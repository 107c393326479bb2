"""The checker against its floor and against django-safe-migrations, in one run.

    pip install -e '.[test,bench]'   # wagtail + taggit (test), django-safe-migrations (bench)
    python benchmarks/lint_floor.py [--sizes 1000 3000] [--runs 3] [--theirs-synthetic]

Three timings, each the command alone in a fresh process after ``django.setup()`` (CPU
seconds of the process, the fastest of ``--runs``):

- the floor: load the migration graph from disk and replay every operation's
  ``state_forwards`` on one project state (what any checker that knows the models must do);
- ours: ``safemigrate --check --all --format json`` (every migration linted);
- theirs: django-safe-migrations' ``check_migrations --format json`` (every migration).

Corpora: the real wagtail + taggit + contrib history (185 migrations), and a synthetic app
of N migrations (``--sizes``) with a typical mix: new models with foreign keys, nullable
columns added, columns altered, indexes added, columns renamed and removed. Targets: ours
<= 1.0x theirs on the real corpus, ours <= 1.5x the floor at 1,000 and 3,000 migrations.
django-safe-migrations on the synthetic corpora only with ``--theirs-synthetic`` (its time
grows faster than linearly: minutes at 3,000).

``--instructions`` counts instructions with valgrind (callgrind) instead of CPU time: each
figure is the instructions of the process minus those of a process that only runs
``django.setup()``, one run each (a count does not depend on the load of a shared machine,
where CPU-time ratios move by 30%). Several minutes per corpus. ``PYTHONHASHSEED=0`` by
default: with random hashing, two runs of the same command differed by 2.5% (probably hash
order changing when dicts resize and the garbage collector runs), and the floor itself by up
to 10%. ``--hash-seed N`` (or ``random``) counts with another seed, to check that a ratio
holds whatever the seed.

This package and each corpus are byte-compiled before anything is measured (as a wheel
install and a second run have them): with ``PYTHONDONTWRITEBYTECODE`` set, every process
would otherwise compile the migrations (the floor's cost too) and ~150 modules of the
checker from source (only ours), which is compile(), not checking.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.lint_scratch_project import byte_compile, environment, write_project

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/zdt_bench_lint"
OURS = ("safemigrate", "--check", "--all", "--format", "json")
THEIRS = ("check_migrations", "--format", "json")
HASH_SEED = ["0"]
"""``PYTHONHASHSEED`` of the counted processes (``--hash-seed``)."""

RUNNER = """
import io, json, sys, time, django
django.setup()
cpu = time.process_time()
if sys.argv[1] == "setup":
    pass
elif sys.argv[1] == "floor":
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.state import ProjectState
    from django_zero_downtime.lint.select import full_plan
    loader = MigrationLoader(None, ignore_no_migrations=True)
    state = ProjectState(real_apps=loader.unmigrated_apps)
    for migration in full_plan(loader):
        for operation in migration.operations:
            operation.state_forwards(migration.app_label, state)
else:
    from django.core.management import call_command
    try:
        call_command(*sys.argv[1:], stdout=io.StringIO(), stderr=io.StringIO())
    except SystemExit:
        pass
print("ZDT_CPU", json.dumps(time.process_time() - cpu))
"""


def cpu_seconds(directory: Path, env: dict[str, str], *args: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    lines = [x for x in done.stdout.splitlines() if x.startswith("ZDT_CPU")]
    assert lines, done.stdout[-2000:] + done.stderr[-3000:]
    return float(json.loads(lines[-1].split(" ", 1)[1]))


def fastest(directory: Path, env: dict[str, str], runs: int, *args: str) -> float:
    return min(cpu_seconds(directory, env, *args) for _ in range(runs))


def instructions(directory: Path, env: dict[str, str], *args: str) -> int:
    """Instructions the whole process executes (valgrind's callgrind)."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         "-c", RUNNER, *args],
        cwd=directory, env={**env, "PYTHONHASHSEED": HASH_SEED[0]}, capture_output=True, text=True,
        timeout=7200,
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    assert found and "ZDT_CPU" in done.stdout, done.stdout[-2000:] + done.stderr[-3000:]
    return int(found.group(1))


def instruction_counts(directory: Path, env: dict[str, str], theirs: bool) -> dict[str, float]:
    """Giga-instructions of each command after ``django.setup()`` (minus a setup-only run)."""
    setup = instructions(directory, env, "setup")
    commands = {"floor": ("floor",), "ours": OURS, **({"theirs": THEIRS} if theirs else {})}
    return {k: (instructions(directory, env, *v) - setup) / 1e9 for k, v in commands.items()}


# -- the synthetic app -------------------------------------------------------------------------
HEADER = "from django.db import migrations, models\nimport django.db.models.deletion\n\n\n"
FK = 'models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to="synth.{to}")'


def synthetic_operations(number: int, columns: dict[str, list[str]]) -> list[str]:
    """The operations of migration ``number`` (>= 2), keeping ``columns`` per model."""
    model = sorted(columns)[number % len(columns)]
    added = columns[model]
    kind = number % 6
    if kind == 0 or not added:
        added.append(f"c{number}")
        return [f'migrations.AddField("{model}", "c{number}", models.TextField(null=True))']
    if kind == 1:
        field = "models.TextField(null=True, blank=True)"
        return [f'migrations.AlterField("{model}", "{added[-1]}", {field})']
    if kind == 2:
        index = f'models.Index(fields=["{added[-1]}"], name="i{number}")'
        return [f'migrations.AddIndex("{model}", {index})']
    if kind == 3:
        name = f"Extra{number}"
        columns[name.lower()] = []
        return [
            f'migrations.CreateModel("{name}", [("id", models.BigAutoField(primary_key=True)), '
            f'("name", models.CharField(max_length=50)), ("ref", {FK.format(to=model)})])'
        ]
    if kind == 4:
        old, added[-1] = added[-1], f"r{number}"
        return [f'migrations.RenameField("{model}", "{old}", "r{number}")']
    return [f'migrations.RemoveField("{model}", "{added.pop(0)}")']


def write_synthetic(directory: Path, size: int, models_count: int = 20) -> None:
    app = directory / "synth"
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    columns: dict[str, list[str]] = {f"m{i}": [] for i in range(models_count)}
    creates = [
        f'migrations.CreateModel("M{i}", [("id", models.BigAutoField(primary_key=True)), '
        f'("name", models.CharField(max_length=50))'
        + (f', ("parent", {FK.format(to=f"m{i - 1}")})' if i else "")
        + "])"
        for i in range(models_count)
    ]
    previous = _write(app, 1, None, creates)
    for number in range(2, size + 1):
        previous = _write(app, number, previous, synthetic_operations(number, columns))


def _write(app: Path, number: int, previous: str | None, operations: list[str]) -> str:
    name = f"{number:04d}_step"
    dependencies = f'[("synth", "{previous}")]' if previous else "[]"
    body = "".join(f"        {op},\n" for op in operations)
    (app / "migrations" / f"{name}.py").write_text(
        f"{HEADER}class Migration(migrations.Migration):\n"
        f"    dependencies = {dependencies}\n    operations = [\n{body}    ]\n"
    )
    return name


SYNTH_SETTINGS = """\
from scratch_settings import *  # noqa
INSTALLED_APPS = [
    "django.contrib.contenttypes", "django.contrib.auth", "pgtrigger", "django_zero_downtime",
    "django_safe_migrations", "synth",
]
"""


# -- the run -----------------------------------------------------------------------------------
def require(*modules: str) -> None:
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        sys.exit(f"Missing {', '.join(missing)}: run  pip install -e '.[test,bench]'  first.")


def corpus(directory: Path, env: dict[str, str], runs: int, theirs: bool) -> dict[str, float]:
    if runs == 0:
        return instruction_counts(directory, env, theirs)
    times = {
        "floor": fastest(directory, env, runs, "floor"),
        "ours": fastest(directory, env, runs, *OURS),
    }
    if theirs:
        times["theirs"] = fastest(directory, env, runs, *THEIRS)
    return times


def line(label: str, times: dict[str, float], unit: str = "s") -> str:
    text = (
        f"  {label:<34} floor {times['floor']:6.2f} {unit}  ours {times['ours']:6.2f} {unit} "
        f"({times['ours'] / times['floor']:.3f}x floor)"
    )
    if "theirs" in times:
        text += f"  django-safe-migrations {times['theirs']:6.2f} {unit} (ours {times['ours'] / times['theirs']:.2f}x)"  # noqa: E501
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 3000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--theirs-synthetic", action="store_true")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions with valgrind instead"
    )
    parser.add_argument(
        "--hash-seed", default="0", help="PYTHONHASHSEED with --instructions (N or random)"
    )
    options = parser.parse_args()
    HASH_SEED[0] = options.hash_seed
    runs = 0 if options.instructions else options.runs
    require("wagtail", "taggit", "django_safe_migrations")
    env = environment(os.environ.get("DATABASE_URL") or DEFAULT_URL)
    results: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="zdt_floor_") as tmp:
        real = write_project(Path(tmp) / "real", ("django_safe_migrations",))
        byte_compile(real)
        cpu_seconds(real, env, "floor")  # warm the .pyc files and the file system cache
        results.append(("real: wagtail + taggit + contrib", corpus(real, env, runs, True)))
        for size in options.sizes:
            directory = write_project(Path(tmp) / f"synth{size}")
            (directory / "synth_settings.py").write_text(SYNTH_SETTINGS)
            write_synthetic(directory, size)
            byte_compile(directory)
            synth_env = {**env, "DJANGO_SETTINGS_MODULE": "synth_settings"}
            cpu_seconds(directory, synth_env, "floor")
            times = corpus(directory, synth_env, runs, options.theirs_synthetic)
            results.append((f"synthetic: {size:,} migrations", times))
    if runs:
        print(f"checker CPU seconds after django.setup(), fastest of {runs} runs each")
    else:
        print(
            "checker instructions after django.setup() (callgrind, G = 10^9), one run each, "
            f"PYTHONHASHSEED={options.hash_seed}"
        )
    for label, times in results:
        print(line(label, times, "s" if runs else "G"))
    real_ratio = results[0][1]["ours"] / results[0][1]["theirs"]
    worst_floor = (
        max(times["ours"] / times["floor"] for _, times in results[1:]) if results[1:] else 0
    )
    print(f"  target: ours <= 1.0x django-safe-migrations (real): {real_ratio:.2f}x "
          f"{'OK' if real_ratio <= 1.0 else 'MISSED'}; ours <= 1.5x floor (synthetic): "
          f"{worst_floor:.2f}x {'OK' if worst_floor <= 1.5 else 'MISSED'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
