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
- ``message``: ``text``, a line for people (a backfill's start, retries and end), sent by
  :func:`tell` to the listener that prints them (the runner's progress) instead of printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass(frozen=True)
class Event:
    kind: str
    at: float
    """``time.monotonic()`` when it was emitted."""
    data: Mapping[str, Any] = field(default_factory=dict)


Listener = Callable[[Event], None]
_listeners: list[Listener] = []
_printers: list[Listener] = []


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
def listening(listener: Listener, *, prints_messages: bool = False) -> Iterator[Listener]:
    """Subscribe ``listener`` for the duration of the ``with`` block. ``prints_messages``:
    it shows ``message`` events to people, so emitters :func:`tell` it instead of printing."""
    _listeners.append(listener)
    if prints_messages:
        _printers.append(listener)
    try:
        yield listener
    finally:
        if listener in _listeners:
            _listeners.remove(listener)
        if listener in _printers:
            _printers.remove(listener)


def messages_printed() -> bool:
    """Whether a listener shows progress to people (then periodic lines are its job)."""
    return any(p in _listeners for p in _printers)


def tell(out: TextIO, line: str) -> None:
    """A line for people: a ``message`` event when a listener prints them, else to ``out``."""
    if messages_printed():
        emit("message", text=line)
    else:
        out.write(line + "\n")
        out.flush()
