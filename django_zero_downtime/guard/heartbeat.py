"""Web processes report the release they serve: at start-up and on a heartbeat.

A deploy cycle is a release that served (:mod:`django_zero_downtime.releases`), and the drop
gate asks whether a release whose models still map a column is serving. Both need the web
processes to say so. A process reports when it is a web process (the guard's test,
:func:`runtime.web_process_reason`: a server program, or a request served through Django's
WSGI/ASGI handler), ``ZDT_RELEASE`` names its release and ``ZDT_HEARTBEAT_S`` is not None.

- **Never in the way.** A daemon thread per process does the work; a request only checks
  one integer (:func:`ensure_running`, which also restarts the thread in a forked worker).
- **Cheap and non-blocking.** DML only (``ledger.report_serving``): one row per process, an
  UPDATE of ``last_seen`` per beat, in one transaction with ``statement_timeout = 2s`` and
  ``lock_timeout = 200ms``, on a connection closed after each beat. The first beat sends
  the tables and columns the models map (stored once per release).
- **Failures are a log line**, once per kind of failure (logger
  ``django_zero_downtime.heartbeat``): no ledger table yet, the database down, a role
  without INSERT. The process serves on.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from typing import Any

from django_zero_downtime import conf

log = logging.getLogger("django_zero_downtime.heartbeat")

_state: dict[str, Any] = {"pid": None, "stop": threading.Event()}
_start_lock = threading.Lock()


def mapped_schema() -> dict[str, list[str]]:
    """``{table: [columns]}`` that this process's models map (proxies map nothing new)."""
    from django.apps import apps

    maps: dict[str, set[str]] = {}
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.proxy:
            columns = {f.column for f in model._meta.local_concrete_fields if f.column}
            maps.setdefault(model._meta.db_table, set()).update(columns)
    return {table: sorted(columns) for table, columns in sorted(maps.items())}


def ensure_running() -> None:
    """Start this process's heartbeat unless it runs (or is off) here already."""
    if _state["pid"] == os.getpid():
        return
    with _start_lock:
        if _state["pid"] == os.getpid():
            return
        _state["pid"] = os.getpid()
        try:
            settings = conf.get_settings()
        except Exception as exc:  # zdt.E001 reports it; a web process must start anyway
            log.warning("django-zero-downtime's heartbeat is off: %s", exc)
            return
        if settings.RELEASE is None or settings.HEARTBEAT_S is None:
            return
        _start(settings.RELEASE, settings.HEARTBEAT_S)


def _start(release: str, every: float) -> None:
    """The thread of this process; a failure to start it is a log line, never a request's."""
    _state["stop"] = stop = threading.Event()
    beat = Heartbeat(release, every, stop)
    try:
        alias = _alias()
    except Exception as exc:
        beat._failed(exc)
        return
    threading.Thread(target=beat.run, args=(alias,), name="zdt-heartbeat", daemon=True).start()


def _alias() -> str:
    """The ledger's database, found here and not in the thread: a module the thread imports
    while a ``--preload`` master forks would stay half-initialised in the worker."""
    from django.db import connections

    from django_zero_downtime import ledger

    alias = ledger.ledger_alias(ledger.ServingProcess)
    connections[alias]  # loads the database backend and its driver here, too
    return alias


def stop() -> None:
    """Stop this process's heartbeat (tests; a process that stops serving)."""
    _state["stop"].set()
    _state["pid"] = None


class Heartbeat:
    """The loop of one process: report, wait ``every`` seconds, report again."""

    def __init__(self, release: str, every: float, stopped: threading.Event) -> None:
        self.release = release
        self.every = every
        self.stopped = stopped
        self.host = socket.gethostname()[:255]
        self.pid = os.getpid()
        self.first = True
        self.last_problem = ""

    def run(self, alias: str) -> None:
        try:
            maps = json.dumps(mapped_schema())
        except Exception as exc:  # a model that cannot say: no heartbeat
            self._failed(exc)
            return
        while not self.stopped.is_set():
            self.beat(alias, maps)
            self.stopped.wait(self.every)

    def beat(self, alias: str, maps: str) -> None:
        from django.db import connections

        from django_zero_downtime import ledger  # imported by _alias() before the thread

        try:
            ledger.report_serving(
                alias, self.release, self.host, self.pid, maps if self.first else None
            )
            self.first = False
            self._recovered()
        except LookupError:  # the row was pruned: the next beat is a first one again
            self.first = True
        except Exception as exc:
            self._failed(exc)
        finally:
            connections[alias].close()

    def _failed(self, exc: Exception) -> None:
        lines = str(exc).strip().splitlines()
        problem = f"{exc.__class__.__name__}: {lines[0] if lines else ''}"
        if problem != self.last_problem:
            log.warning(
                "django-zero-downtime could not report release %r as serving (%s); the "
                "process serves on, the deploy-cycle ledger does not see it.",
                self.release,
                problem,
            )
        self.last_problem = problem

    def _recovered(self) -> None:
        if self.last_problem:
            log.info("django-zero-downtime reports release %r as serving again.", self.release)
        self.last_problem = ""
