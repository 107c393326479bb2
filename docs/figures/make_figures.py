"""Draw the docs' figures from real runs (matplotlib PNGs, committed beside this script).

    python docs/figures/make_figures.py                  # both figures
    python docs/figures/make_figures.py lock_queue       # one of them
    python docs/figures/make_figures.py rename --demo-workdir DIR   # reuse a demo's reports

- ``lock_queue.png``: the latency of 1-row SELECTs (every 20 ms) while a migration adds a
  column behind a transaction that stays open 5 s: plain ``migrate`` against
  ``safemigrate`` (``benchmarks/lock_queue.py``'s scenario, measured now).
- ``rename_releases.png``: the four releases of the example's rename, one column each: the
  family-name columns in the schema, what each release reads and writes (from
  ``example_project/people/releases.py``, the code the demo serves), and each release's
  pre-step as the lifecycle demo ran it (outcome and seconds from its safemigrate reports;
  the demo is run with ``--quick`` unless ``--demo-workdir`` holds the reports of a run).

Needs PostgreSQL (``DATABASE_URL``) and ``pip install -e '.[test]'`` (matplotlib).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# --- the lock queue -------------------------------------------------------------------------


def lock_queue() -> Path:
    """Run the benchmark's two scenarios and plot every SELECT's latency over time."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import lock_queue as bench

    with tempfile.TemporaryDirectory() as tmp:
        package = bench.write_migrations(Path(tmp))
        bench.setup_django(Path(tmp), package)
        from django.core.management import call_command

        call_command("migrate", "django_zero_downtime", verbosity=0)
        plain = bench.measure("migrate")
        safe = bench.measure(
            "safemigrate", "--lock-timeout", str(bench.LOCK_TIMEOUT_MS), "--max-retries", "30"
        )
        bench.reset()
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(8, 3.6), dpi=100)
    for (sent, waits), name, colour in ((plain, "plain migrate", "#c62828"),
                                        (safe, "safemigrate", "#2e7d32")):  # fmt: skip
        axis.plot(sent, [w * 1000 for w in waits], ".", ms=3, color=colour,
                  label=f"{name}: longest {max(waits) * 1000:.0f} ms")  # fmt: skip
    axis.axhline(bench.LOCK_TIMEOUT_MS, ls="--", lw=1, color="#555")
    axis.text(0.1, bench.LOCK_TIMEOUT_MS * 1.05, "lock_timeout", fontsize=8, color="#555")
    axis.set_xlabel(f"seconds since a transaction started holding the table ({bench.HOLD_S:.0f} s)")
    axis.set_ylabel("SELECT latency (ms)")
    axis.set_title("1-row SELECTs every 20 ms while ADD COLUMN waits for its lock (measured)")
    axis.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    return _save(figure, "lock_queue.png")


# --- the four releases of the rename --------------------------------------------------------


def demo_reports(workdir: Path | None) -> list[dict[str, Any]]:
    """The safemigrate reports of a lifecycle demo run, in the order they were written."""
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="zdt-figures-demo-"))
        command = [
            sys.executable, "manage.py", "lifecycle_demo", "--quick", "--workdir", str(workdir),
            "--database-name", "zdt_figures_demo", "--drop-database",
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "RELEASE"}
        subprocess.run(command, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    files = sorted(workdir.glob("safemigrate-*.json"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return [json.loads(p.read_text()) for p in files]


def schema_after(releases: Any, index: int) -> set[str]:
    """Columns the schema keeps after release ``index``'s pre-step: its own and those of the
    release before it, which still serves (and may take the traffic back)."""
    previous = releases[index - 1].columns if index else frozenset()
    return set(releases[index].columns | previous)


def rename(workdir: Path | None) -> Path:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    django.setup()
    from example_project.people.releases import RELEASES

    reports = demo_reports(workdir)
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(9, 4.2), dpi=100)
    rows = ["last_name column", "surname column", "reads", "writes", "pre-step"]
    for x, release in enumerate(RELEASES):
        columns = schema_after(RELEASES, x)
        for y, column in enumerate(("last_name", "surname")):
            if column in columns:
                axis.barh(y, 0.9, left=x + 0.05, color="#90caf9" if y == 0 else "#a5d6a7")
        axis.text(x + 0.5, 2, release.reads, ha="center", va="center", fontsize=9)
        axis.text(x + 0.5, 3, " + ".join(release.writes), ha="center", va="center", fontsize=9)
        axis.text(x + 0.5, 4, _prestep_text(release, reports), ha="center", va="center", fontsize=7)
        if x:
            rollback = RELEASES[x - 1].columns <= columns
            colour = "#2e7d32" if rollback else "#c62828"
            arrow = {"arrowstyle": "->", "color": colour}
            axis.annotate("", xy=(x - 0.1, 5.0), xytext=(x + 0.4, 5.0), arrowprops=arrow)
            axis.text(x + 0.05, 5.25, "rollback OK" if rollback else "NO rollback", fontsize=7)
    axis.set_yticks(range(len(rows)), rows)
    axis.set_xticks([x + 0.5 for x in range(len(RELEASES))], [r.label for r in RELEASES])
    axis.set_xlim(0, len(RELEASES))
    axis.set_ylim(5.6, -0.6)
    axis.set_title("Renaming last_name to surname over four releases (demo run)")
    figure.tight_layout()
    return _save(figure, "rename_releases.png")


def _prestep_text(release: Any, reports: list[dict[str, Any]]) -> str:
    """What the demo's pre-steps of ``release`` did: outcome, migrations, seconds."""
    mine = [r for r in reports if r.get("release") == release.label]
    parts = []
    for report in mine:
        seconds = sum(s.get("duration_s", 0.0) for s in report.get("steps", []))
        applied = ", ".join(a.split(".", 1)[1][:4] for a in report.get("applied", [])) or "-"
        parts.append(f"{report['outcome']} {applied} {seconds:.2f}s")
    return "\n".join(parts) or "(no pre-step)"


def _save(figure: Any, name: str) -> Path:
    path = HERE / name
    figure.savefig(path)
    print(f"wrote {path.relative_to(REPO)}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", default=["lock_queue", "rename"])
    parser.add_argument("--demo-workdir", type=Path, help="Reports of a lifecycle demo run.")
    args = parser.parse_args()
    if "rename" in args.which:
        rename(args.demo_workdir)
    if "lock_queue" in args.which:
        lock_queue()


if __name__ == "__main__":
    main()
