"""The demo's plan: which releases, which pre-steps, which traffic phases (pure data).

Every step from release 2 on follows the seed's blue/green recipe
(``shared/seeds/000_*.txt`` and ``003_*.txt``):

1. **migrate**: ``safemigrate`` runs as its own process while the previous release takes
   all the traffic (its impact on that traffic is what this phase measures);
2. **smoke**: the new release starts beside the old one and gets a smoke test;
3. **50/50**: traffic is split between the two releases;
4. **rollback**: all traffic back to the previous release (it must still work);
5. **forward**: all traffic to the new release; then the old one is stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

from example_project.people.releases import RELEASES, Release

Target = tuple[str, str | None]  # (app label, migration name or None for the app's latest)


@dataclass(frozen=True)
class Step:
    release: Release
    targets: tuple[Target, ...]
    gated_drop: bool = False

    @property
    def previous(self) -> int | None:
        return self.release.number - 1 if self.release.number > 1 else None


def steps() -> tuple[Step, ...]:
    """Release 1 also migrates the ledger (initial set-up); release 4's drop is gated."""
    first, *rest = RELEASES
    initial = (("django_zero_downtime", None), ("people", first.migration))
    later = tuple(Step(r, (("people", r.migration),), gated_drop=r is RELEASES[-1]) for r in rest)
    return (Step(first, initial), *later)


@dataclass(frozen=True)
class Phase:
    name: str
    to_new: bool
    to_old: bool


BLUE_GREEN_PHASES = (
    Phase("50/50", to_new=True, to_old=True),
    Phase("rollback", to_new=False, to_old=True),
    Phase("forward", to_new=True, to_old=False),
)


@dataclass(frozen=True)
class DemoOptions:
    """Sizes of one demo run: seeded rows and per-phase traffic bounds."""

    rows: int = 10_000
    requests: int = 400
    seconds: float = 20.0
    threads: int = 4
    max_extra_cycles: int = 6


QUICK = DemoOptions(rows=1_500, requests=80, seconds=8.0, threads=2)
SMOKE_REQUESTS = 4


def extra_cycle_label(previous: Release, n: int) -> str:
    """Label of the n-th extra deploy cycle shipped while a drop waits (e.g. ``r3.1``)."""
    return f"{previous.label}.{n}"
