"""How much the guard's static checks add to `manage.py check` on the example project.

Baseline: all of Django's own system checks (every registered check that is not ours),
measured in the same run. Prints the median time of each and the ratio.
Run: ``.venv/bin/python benchmarks/guard_checks.py``. No database is used.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

import django

django.setup()

from django.core.checks import registry  # noqa: E402

from django_zero_downtime import checks  # noqa: E402

GUARD = [
    checks.check_startup_code,
    checks.check_auto_migrate_settings,
    checks.check_start_scripts,
    checks.check_web_role,
]


def median_ms(run: Callable[[], object], repeat: int = 30) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    django_checks = [
        c for c in registry.registry.get_checks() if c not in GUARD and checks.TAG not in c.tags
    ]
    baseline = median_ms(
        lambda: [check(app_configs=None, databases=None) for check in django_checks]
    )
    guard = median_ms(lambda: [check(app_configs=None, databases=None) for check in GUARD])
    print(f"Django's own checks: {baseline:.2f} ms (baseline, {len(django_checks)} checks)")
    print(f"guard checks:        {guard:.2f} ms ({len(GUARD)} checks)")
    print(f"ratio guard/baseline: {guard / baseline:.2f}")


if __name__ == "__main__":
    main()
