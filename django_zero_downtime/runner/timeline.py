"""The run as it happened, on one time axis: steps, blocked sessions, backfill batches.

:class:`Timeline` listens to :mod:`django_zero_downtime.events` for the duration of the apply
phase: ``step-start`` / ``step-end`` (the applier), ``sample`` (the monitor, every
:data:`~.monitor.SAMPLE_S`; kept every :data:`SAMPLE_EVERY_S`, and always when a session is
blocked), ``batch`` / ``pause`` / ``resume`` (the batch engine). Times are seconds since
the timeline started (``t0``, also given as a wall-clock ISO time), so the JSON report can
be drawn without any clock arithmetic.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from django_zero_downtime.events import Event

SAMPLE_EVERY_S = 0.1
"""Samples with no blocked session are kept at most this often (cheap and enough to draw)."""


@dataclass
class StepSpan:
    key: str
    description: str = ""
    lock: str = ""
    """The strongest lock the step's statements take (from the plan), and on which tables."""
    start_s: float | None = None
    end_s: float | None = None
    attempts: int = 0
    outcome: str = "not run"


@dataclass
class Timeline:
    t0: float = field(default_factory=time.monotonic)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    steps: dict[str, StepSpan] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)
    pauses: list[dict[str, Any]] = field(default_factory=list)
    _last_sample: float = -1.0
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def plan(self, key: str, description: str, lock: str) -> None:
        """Declare a step before it runs, so steps never started still show (as not run)."""
        self.steps[key] = StepSpan(key, description, lock)

    def __call__(self, event: Event) -> None:
        handler = getattr(self, "_on_" + event.kind.replace("-", "_"), None)
        if handler is not None:
            with self._guard:
                handler(round(event.at - self.t0, 3), event.data)

    def _on_step_start(self, t: float, data: Any) -> None:
        span = self.steps.get(data["step"])
        if span is None:  # e.g. the deferred-SQL step of a migration that has none
            return
        span.start_s = t if span.start_s is None else span.start_s
        span.attempts += 1
        span.outcome = "running"

    def _on_step_end(self, t: float, data: Any) -> None:
        span = self.steps.get(data["step"])
        if span is not None:
            span.end_s, span.outcome = t, data.get("outcome", "applied")

    def _on_sample(self, t: float, data: Any) -> None:
        blocked = [_waiter(s) for s in data.get("blocked", [])]
        if blocked or t - self._last_sample >= SAMPLE_EVERY_S:
            self._last_sample = t
            self.samples.append({"t": t, "step": data.get("step", ""), "blocked": blocked})

    def _on_batch(self, t: float, data: Any) -> None:
        keys = ("key", "label", "table", "rows", "done", "total", "seconds", "pause_s")
        self.batches.append({"t": t, **{k: data.get(k) for k in keys}})

    def _on_pause(self, t: float, data: Any) -> None:
        self.pauses.append({"t": t, "key": data.get("key"), "reason": data.get("reason", "")})

    def _on_resume(self, t: float, data: Any) -> None:
        if self.pauses and self.pauses[-1].get("key") == data.get("key"):
            self.pauses[-1]["seconds"] = data.get("seconds")

    def close(self, outcome: str) -> None:
        """End steps still running (the run stopped in them) with ``outcome``."""
        now = round(time.monotonic() - self.t0, 3)
        with self._guard:
            for span in self.steps.values():
                if span.outcome == "running":
                    span.end_s, span.outcome = now, outcome

    def to_dict(self) -> dict[str, Any]:
        with self._guard:
            return {
                "started_at": self.started_at,
                "steps": [asdict(s) for s in self.steps.values()],
                "samples": list(self.samples),
                "batches": list(self.batches),
                "pauses": list(self.pauses),
            }


def _waiter(session: Any) -> dict[str, Any]:
    """A blocked session as kept in a sample: pid, how long it had waited, its query."""
    waited = session.get("waited_s")
    return {
        "pid": session.get("pid"),
        "waited_ms": None if waited is None else round(waited * 1000, 1),
        "query": (session.get("query") or "")[:120],
    }


def longest_wait_ms(timeline: dict[str, Any]) -> float:
    """The longest wait of any blocked session in the samples of a timeline (JSON form)."""
    waits = [
        w["waited_ms"] for s in timeline.get("samples", []) for w in s["blocked"] if w["waited_ms"]
    ]
    return max(waits, default=0.0)
