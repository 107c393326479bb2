"""Progress events: what long work says while it runs, for whoever listens.

Operations (backfill batches, throttling pauses, index builds) and the runner (steps,
samples of blocked sessions) call :func:`emit`; the runner's report timeline, the terminal
progress line and tests subscribe with :func:`listening`. This module imports nothing of
the project, so every layer may emit without importing the runner. Nothing listens by
default: an emit then costs a loop over an empty list.

Event kinds and their data (add keys freely; never rename one):

- ``step-start`` / ``step-end``: ``step`` ("app.0002_name #index"), ``description``;
  ``step-end`` adds ``seconds`` and ``outcome`` ("applied", "failed", "refused").
- ``batch``: ``key`` (backfill key), ``label`` (readable: "shop.Order.total ← amount"),
  ``rows`` (in this batch), ``done``, ``total`` (rows to do, ``None`` if unknown),
  ``seconds`` (this batch), ``batch_size``.
- ``pause`` / ``resume``: ``key``, ``reason`` (a sentence); ``resume`` adds ``seconds``.
- ``sample``: ``step``, ``blocked`` (list of ``{"pid", "waited_s", "query"}``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    kind: str
    at: float
    """``time.monotonic()`` when it was emitted."""
    data: Mapping[str, Any] = field(default_factory=dict)


Listener = Callable[[Event], None]
_listeners: list[Listener] = []


def emit(kind: str, **data: Any) -> None:
    """Tell every listener; a listener that raises is dropped, never the caller's work."""
    if not _listeners:
        return
    event = Event(kind, time.monotonic(), data)
    for listener in list(_listeners):
        try:
            listener(event)
        except Exception:
            _listeners.remove(listener)


@contextmanager
def listening(listener: Listener) -> Iterator[Listener]:
    """Subscribe ``listener`` for the duration of the ``with`` block."""
    _listeners.append(listener)
    try:
        yield listener
    finally:
        if listener in _listeners:
            _listeners.remove(listener)
