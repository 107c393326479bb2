"""The run's release: which releases served since the last run, and this run's label.

Before the plan is judged (under the run lock, the only writer of decisions), the releases
seen serving are counted (``ledger.reconcile_served``), so the drop gates judge with every
cycle that really happened. Then the run's ``--release`` label is recorded: it counts at
once only when no web process reports (label counting, with a warning that it is weaker);
otherwise it counts when its web processes are seen serving (docs/deploy.md#deploy-cycles).
"""

from __future__ import annotations

from collections.abc import Callable

from django_zero_downtime import ledger, releases

Say = Callable[[str], None]


def label_counting(alias: str, release: str | None, say: Say) -> bool:
    """Count the releases seen serving; True when labels must be counted instead (said)."""
    for decision in ledger.reconcile_served(alias):
        if decision.counted:
            say(f"Release {decision.release!r} was seen serving: a deploy cycle.")
    ledger.prune_serving(alias)
    if ledger.serving_reported(alias):
        return False
    if release:
        say("Warning: " + releases.LABEL_COUNTING.format(alias=alias))
    return True


def record(alias: str, release: str, counting_labels: bool, say: Say) -> int:
    """Record this run's label; say what it counts as; return the counter."""
    recorded = ledger.record_release(release, alias, counting_labels)
    if recorded.not_counted:
        state = f"recorded, not counted: {recorded.not_counted}"
    else:
        state = "new deploy cycle" if recorded.created else "already recorded"
    say(f"Release {release!r}: deploy cycle {recorded.cycle} ({state}).")
    return recorded.cycle
