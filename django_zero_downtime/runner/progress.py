"""Progress of long steps while ``safemigrate`` runs: what a person watching the deploy sees.

It listens to :mod:`django_zero_downtime.events` (``step-start``/``step-end``, ``batch``,
``sample``):

- on a terminal, one line per step that updates in place (rich): the step or backfill
  name, done/total rows, %, rows/s, ETA, live sessions waiting on the migration;
- otherwise (a CI log, a pipe), a line every :data:`~.monitor.PROGRESS_EVERY_S` seconds
  from the monitor's heartbeat, with the same figures;
- nothing at ``-v 0`` (the runner does not make one).

While a terminal line is live, other output goes through :meth:`Progress.say`, above it.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from django_zero_downtime.events import Event


@dataclass
class Backfill:
    """The latest batch of the backfill running in the current step."""

    label: str
    done: int
    total: int
    started: float
    now: float

    def rate(self) -> float:
        return self.done / max(self.now - self.started, 1e-6)

    def line(self) -> str:
        rate = self.rate()
        left = (self.total - self.done) / rate if rate else 0.0
        share = self.done / self.total if self.total else 1.0
        return (
            f"{self.label} {self.done:,}/{self.total:,} rows ({share:.0%}), "
            f"{rate:,.0f} rows/s, ETA {left:.0f}s"
        )


class Progress:
    """Listener (``events.listening(progress)``) and printer of the run's progress."""

    def __init__(self, stream: TextIO, write: Callable[[str], None]) -> None:
        self.stream = stream
        self.write = write
        self.terminal = bool(getattr(stream, "isatty", lambda: False)())
        self.backfill: Backfill | None = None
        self.waiting = 0
        self._live: Any = None
        self._task: Any = None
        self._description = ""
        self._guard = threading.RLock()

    # -- output ---------------------------------------------------------------------------
    def say(self, line: str) -> None:
        with self._guard:
            if self._live is not None:
                self._live.console.print(line, markup=False, highlight=False, soft_wrap=True)
            else:
                self.write(line)

    def heartbeat(self, step: str, elapsed: float, blocked: int) -> None:
        """The monitor's periodic call: a line, unless the terminal line already shows it."""
        if self.terminal:
            return
        line = f"    ... {step} running for {elapsed:.0f}s, {blocked} live sessions waiting on it"
        if self.backfill is not None:
            line += f"; {self.backfill.line()}"
        self.say(line)

    # -- events ---------------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        with self._guard:
            if event.kind == "step-start":
                self._start(event.data.get("description") or event.data.get("step", ""))
            elif event.kind == "step-end":
                self._stop()
            elif event.kind == "batch":
                self._batch(event)
            elif event.kind == "message":
                self.say(str(event.data.get("text", "")))
            elif event.kind == "sample":
                self.waiting = len(event.data.get("blocked", []))
                self._refresh()

    def _start(self, description: str) -> None:
        self._stop()
        self.backfill, self._description = None, description
        if self.terminal:
            self._live = _rich_progress(self.stream)
            self._live.start()
            self._task = self._live.add_task(description, total=None, waiting=0)

    def _stop(self) -> None:
        if self._live is not None:
            self._refresh()
            if self._task is not None and self.backfill is None:
                self._live.update(self._task, total=1, completed=1)
            self._live.stop()
            self._live = self._task = None

    def _batch(self, event: Event) -> None:
        data, now = event.data, event.at
        if self.backfill is None or self.backfill.label != data.get("label"):
            started = now - float(data.get("seconds") or 0.0)
            self.backfill = Backfill(data.get("label", ""), 0, 0, started, now)
        self.backfill.done, self.backfill.total = int(data["done"]), int(data["total"] or 0)
        self.backfill.now = now
        self._refresh()

    def _refresh(self) -> None:
        if self._live is None or self._task is None:
            return
        if self.backfill is None:
            self._live.update(self._task, waiting=self.waiting)
            return
        self._live.update(
            self._task,
            description=self.backfill.label,
            completed=self.backfill.done,
            total=self.backfill.total or None,
            waiting=self.waiting,
        )


def _rich_progress(stream: TextIO) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("    {task.description}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        _rate_column(),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[waiting]} waiting"),
        console=Console(file=stream, force_terminal=True),
        refresh_per_second=4,
        transient=False,
    )


def _rate_column() -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Rows per second of the backfill (rich's own speed, over its recent batches)."""

        def render(self, task: Any) -> Text:
            return Text(f"{task.speed:,.0f} rows/s" if task.speed and task.total else "")

    return RateColumn()


class Silent(Progress):
    """``-v 0``: listens (so engines do not print either) and says nothing."""

    def __init__(self) -> None:
        super().__init__(io.StringIO(), lambda line: None)

    def __call__(self, event: Event) -> None:
        return None

    def heartbeat(self, step: str, elapsed: float, blocked: int) -> None:
        return None
