"""One release serving traffic in the bigint scenario: a process running that release's code.

``python -m example_project.lifecycle.bigint_worker STOP_FILE`` with the release's folder
first on ``PYTHONPATH`` and its settings: until ``STOP_FILE`` exists, each "request" creates
an order with two lines in one transaction, reads it back through the ORM (both lines must
be there), and updates a seeded order. Prints ``ready`` once Django is set up, then, at the
end, one JSON line: requests, failures, the first errors and the highest id it created.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any


def serve(stop: Path, seeded: int) -> dict[str, Any]:
    from django.db import transaction
    from django.db.models import F
    from shop.models import Line, Order

    done = failed = 0
    errors: list[str] = []
    highest = 0
    while not stop.exists():
        done += 1
        try:
            with transaction.atomic():
                order = Order.objects.create(label="w")
                Line.objects.bulk_create([Line(order=order, n=1), Line(order=order, n=2)])
            if Order.objects.get(pk=order.pk).line_set.count() != 2:
                raise AssertionError(f"order {order.pk} read back without its two lines")
            Order.objects.filter(pk=random.randint(1, seeded)).update(hits=F("hits") + 1)
            highest = max(highest, order.pk)
        except Exception as exc:  # every failure is counted and reported
            failed += 1
            if len(errors) < 5:
                errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.005)
    return {"requests": done, "failed": failed, "errors": errors, "highest_id": highest}


def main() -> None:
    import django

    django.setup()
    print("ready", flush=True)
    result = serve(Path(sys.argv[1]), int(os.environ["ZDT_DEMO_SEEDED"]))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
