"""What counts as a deploy cycle, and which serving release blocks a drop (pure decisions).

The rules of engagement say a column or table is dropped only when neither the old nor the
new code uses it, after three deployment cycles. A deployment cycle is a release that was
deployed, i.e. served, not a label typed into a pipeline:

- **Served counting** (web processes report their release, ``guard/heartbeat.py``): a
  release counts once it has been seen serving at least ``ZDT_MIN_CYCLE_INTERVAL`` after
  the latest counted cycle (:func:`served_decisions`). A label given to ``safemigrate``
  whose release has not served yet is recorded, not counted.
- **Label counting** (no web process has reported within ``ZDT_SERVING_WINDOW``): a new
  ``--release`` label counts unless it comes within ``ZDT_MIN_CYCLE_INTERVAL`` of the latest
  counted cycle (:func:`label_decision`); the run warns that this is weaker.

Counted rows stay counted, so the counter never goes down. :func:`serving_refusal` is the
drop gate's second question: is a release whose models map the object still serving?
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Cycle:
    """A recorded release as the decisions see it (a ``DeployCycle`` row)."""

    release: str
    at: datetime
    """When it counts from: seen serving (``served_at``), else recorded (``started_at``)."""
    counted: bool


@dataclass(frozen=True)
class Served:
    """A release seen serving, over all of its processes."""

    release: str
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class Decision:
    release: str
    counted: bool
    at: datetime | None = None
    """The time the cycle counts from (stored as ``served_at``)."""
    reason: str | None = None
    """Why it is not (yet) counted (stored as ``not_counted``)."""


def latest(cycles: list[Cycle]) -> Cycle | None:
    """The most recent counted cycle."""
    return max((c for c in cycles if c.counted), key=lambda c: c.at, default=None)


def _too_soon(release: str, when: datetime, last: Cycle, interval: float, what: str) -> str:
    gap = (when - last.at).total_seconds()
    return (
        f"{what} {gap:.0f} s after deploy cycle {last.release!r}; ZDT_MIN_CYCLE_INTERVAL is "
        f"{interval:g} s, so {release!r} is not a new deploy cycle"
    )


def label_decision(release: str, now: datetime, last: Cycle | None, interval: float) -> Decision:
    """Label counting: a new label is a cycle unless it is within ``interval`` of the last."""
    if last is None or (now - last.at).total_seconds() >= interval:
        return Decision(release, True)
    return Decision(release, False, reason=_too_soon(release, now, last, interval, "recorded"))


NOT_SERVED_YET = "not seen serving yet: it counts once a web process reports it serving"


def served_decisions(served: list[Served], cycles: list[Cycle], interval: float) -> list[Decision]:
    """Served counting: every release seen serving that is not a counted cycle yet, in the
    order they were first seen. Each counts when seen serving ``interval`` after the latest
    counted cycle; it then is the latest."""
    counted = {c.release for c in cycles if c.counted}
    last = latest(cycles)
    decisions = []
    for release in sorted(served, key=lambda s: (s.first_seen, s.release)):
        if release.release in counted:
            continue
        due = release.first_seen
        if last is not None:
            due = max(due, last.at + timedelta(seconds=interval))
        if release.last_seen >= due:
            decisions.append(Decision(release.release, True, at=due))
            last = Cycle(release.release, due, True)
        else:
            assert last is not None  # without a cycle before it, a served release counts
            reason = _too_soon(release.release, release.last_seen, last, interval, "last seen")
            decisions.append(Decision(release.release, False, reason=f"served, but {reason}"))
    return decisions


@dataclass(frozen=True)
class StillServing:
    """A release whose models map the object to drop, seen serving within the window."""

    release: str
    last_seen: datetime
    host: str
    pid: int
    processes: int


def serving_refusal(target: str, serving: list[StillServing], now: datetime, window: float) -> str:
    """Why the drop of ``target`` is refused while ``serving`` releases still map it."""
    newest = max(serving, key=lambda s: s.last_seen)
    ago = max(0.0, (now - newest.last_seen).total_seconds())
    others = ", ".join(repr(s.release) for s in serving if s is not newest)
    also = f" (also release {others})" if others else ""
    return (
        f"Refusing to drop {target}: release {newest.release!r}, whose models still map it, "
        f"was seen serving {ago:.0f} s ago (at {newest.last_seen:%Y-%m-%d %H:%M:%S %Z}, "
        f"{newest.host} pid {newest.pid}; {newest.processes} process(es) within "
        f"ZDT_SERVING_WINDOW = {window:g} s){also}. Stop every process of that release, or "
        "wait until none has reported for ZDT_SERVING_WINDOW, then run again."
    )


LABEL_COUNTING = (
    "No web process has reported its release on database {alias!r} within ZDT_SERVING_WINDOW "
    "(set ZDT_RELEASE in the web processes, docs/deploy.md#deploy-cycles): --release labels "
    "are counted as deploy cycles, which is weaker: a label given without a deploy counts too."
)
