"""How much the compatibility check costs over replaying the same migrations' state.

Baseline: applying every operation's ``state_forwards`` with rendered models, which is what
``migrate`` does anyway. Measured: ``find_breaks`` over the same migrations (it builds a
database-level schema after every operation). Prints both and the ratio.

    DJANGO_SETTINGS_MODULE=tests.settings python benchmarks/compat_check.py [models] [migrations]
"""

from __future__ import annotations

import sys
import time

import django

django.setup()

from django.db import connection, migrations, models  # noqa: E402
from django.db.migrations.state import ProjectState  # noqa: E402

from django_zero_downtime.bluegreen.compatibility import find_breaks  # noqa: E402

APP = "benchapp"


def _initial(model_count: int) -> list[migrations.operations.base.Operation]:
    fields = [(f"f{i}", models.CharField(max_length=50, null=True)) for i in range(10)]
    return [
        migrations.CreateModel(f"M{n}", [("id", models.BigAutoField(primary_key=True)), *fields])
        for n in range(model_count)
    ]


def _steps(model_count: int, count: int) -> list[tuple[str, migrations.Migration]]:
    steps = []
    for n in range(count):
        op = migrations.AddField(f"m{n % model_count}", f"x{n}", models.IntegerField(null=True))
        step = type("Migration", (migrations.Migration,), {"operations": [op]})(f"{n:04d}", APP)
        steps.append((APP, step))
    return steps


def main(model_count: int = 50, count: int = 200) -> None:
    old = ProjectState()
    for op in _initial(model_count):
        op.state_forwards(APP, old)
    old.apps  # noqa: B018  (render once, like both paths do)
    steps = _steps(model_count, count)

    started = time.perf_counter()
    state = old.clone()
    for _, step in steps:
        for op in step.operations:
            op.state_forwards(APP, state)
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    findings = find_breaks(old, steps, connection)
    measured = time.perf_counter() - started
    assert findings == []
    print(f"{model_count} models, {count} migrations")
    print(f"baseline (replay state):   {baseline:.3f} s")
    print(f"compatibility check:       {measured:.3f} s")
    print(f"ratio:                     {measured / baseline:.1f}x")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
